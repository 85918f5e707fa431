/**
 * Every failure Turnpike reports is one of these codes. The table is the single
 * place that says how a code looks to an HTTP client, a NAS and a gRPC caller;
 * the front doors translate with `httpStatusOf` / `grpcStatusOf` and nothing else.
 */
export const ERRORS = {
  TP_ERR_VALIDATION: { http: 400, grpc: 3, message: 'The request is not valid' },
  TP_ERR_UNAUTHENTICATED: { http: 401, grpc: 16, message: 'Sign in first' },
  TP_ERR_INVALID_CREDENTIALS: {
    http: 401,
    grpc: 16,
    radius: { replyMessage: 'The code or password is wrong; check it and try again' },
    message: 'Email or password is wrong',
  },
  TP_ERR_TOKEN_INVALID: {
    http: 401,
    grpc: 16,
    radius: { replyMessage: 'This sign-in has expired or was already used; sign in again on the portal' },
    message: 'The token is invalid or has expired; sign in again',
  },
  TP_ERR_MFA_REQUIRED: { http: 401, grpc: 16, message: 'A second factor is required' },
  TP_ERR_MFA_INVALID: { http: 401, grpc: 16, message: 'The one-time code is wrong or has expired' },
  TP_ERR_FORBIDDEN: { http: 403, grpc: 7, message: 'Your role does not allow this' },
  TP_ERR_CSRF: { http: 403, grpc: 7, message: 'The form has expired; reload the page and try again' },
  TP_ERR_ACCOUNT_DISABLED: { http: 403, grpc: 7, message: 'This account is disabled; contact the operator' },
  TP_ERR_LOCKED_OUT: { http: 429, grpc: 8, message: 'Too many failed attempts; wait and try again' },
  TP_ERR_RATE_LIMITED: { http: 429, grpc: 8, message: 'Too many requests; slow down and try again' },
  TP_ERR_NOT_FOUND: { http: 404, grpc: 5, message: 'Not found' },
  TP_ERR_CONFLICT: { http: 409, grpc: 6, message: 'That already exists' },
  TP_ERR_WEAK_PASSWORD: { http: 400, grpc: 3, message: 'Choose a longer, less common password' },
  TP_ERR_PAYLOAD_TOO_LARGE: { http: 413, grpc: 8, message: 'The request body is too large' },
  TP_ERR_UNSUPPORTED_MEDIA: { http: 415, grpc: 3, message: 'Send the body as application/json' },
  TP_ERR_ENTITLEMENT_EXPIRED: { http: 403, grpc: 9, message: 'Your time has run out; buy or redeem more' },
  TP_ERR_QUOTA_EXHAUSTED: { http: 403, grpc: 9, message: 'Your data allowance is used up; buy or redeem more' },
  TP_ERR_DEVICE_LIMIT: { http: 403, grpc: 9, message: 'Too many devices are connected; disconnect one first' },
  // Gateway mode pairs a client's IP with its MAC in the firewall; without an ARP entry there is nothing to pair.
  TP_ERR_DEVICE_UNSEEN: {
    http: 409,
    grpc: 9,
    message: 'Your device is not visible on the network yet; reconnect to the Wi-Fi and open this page again',
  },
  TP_ERR_VOUCHER_INVALID: { http: 400, grpc: 3, message: 'That voucher code is not valid' },
  TP_ERR_VOUCHER_USED: { http: 409, grpc: 9, message: 'That voucher has already been used' },
  TP_ERR_FREE_TIER_USED: { http: 409, grpc: 9, message: 'The free tier has been used on this device today' },
  TP_ERR_DISCONNECT_PENDING: {
    http: 409,
    grpc: 9,
    message: 'Your previous session is still being closed; try again in a minute',
  },
  TP_ERR_NAS_UNKNOWN: { http: 400, grpc: 3, message: 'The network device is not known to this appliance' },
  TP_ERR_PAYMENT: { http: 402, grpc: 9, message: 'The payment did not go through' },
  TP_ERR_WEBHOOK_SIGNATURE: { http: 400, grpc: 3, message: 'The webhook signature is not valid' },
  TP_ERR_CONFIG: { http: 500, grpc: 13, message: 'The configuration is not valid' },
  TP_ERR_STORE_CORRUPT: { http: 500, grpc: 13, message: 'The store file is corrupt' },
  TP_ERR_STORE_LOCKED: { http: 503, grpc: 14, message: 'Another process owns the store' },
  TP_ERR_UNAVAILABLE: { http: 503, grpc: 14, message: 'A dependency is unavailable; try again shortly' },
  // A NAS retransmits a request that gets no answer; a reject would end the guest's login for good.
  TP_ERR_STORE_UNAVAILABLE: {
    http: 503,
    grpc: 14,
    radius: 'no-answer',
    retryAfterSeconds: 5,
    message: 'The database cannot be reached; try again shortly',
  },
  TP_ERR_STORE_CONFLICT: {
    http: 503,
    grpc: 10,
    radius: 'no-answer',
    retryAfterSeconds: 1,
    message: 'Too many simultaneous changes to the same records; try again',
  },
  TP_ERR_INTERNAL: { http: 500, grpc: 13, message: 'Something went wrong on our side' },
} as const satisfies Record<string, ErrorSpec>;

interface ErrorSpec {
  http: number;
  grpc: number;
  message: string;
  /**
   * What a NAS gets: by default an Access-Reject whose Reply-Message is `message`; a reject with
   * words for the NAS's error page instead; or, for failures a retransmission may get past, no
   * answer at all.
   */
  radius?: 'no-answer' | { replyMessage: string };
  /** For a failure that passes on its own: the HTTP answer's Retry-After. */
  retryAfterSeconds?: number;
}

export type ErrorCode = keyof typeof ERRORS;

export class TurnpikeError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERRORS[code].message);
    this.name = 'TurnpikeError';
    this.code = code;
    this.details = details;
  }
}

export function httpStatusOf(code: ErrorCode): number {
  return ERRORS[code].http;
}

export function grpcStatusOf(code: ErrorCode): number {
  return ERRORS[code].grpc;
}

/** Seconds after which a retry may succeed, for HTTP Retry-After; undefined when retrying will not help. */
export function retryAfterOf(code: ErrorCode): number | undefined {
  const spec: ErrorSpec = ERRORS[code];
  return spec.retryAfterSeconds;
}

/** The Reply-Message of the Access-Reject for `code`: what the guest reads on the NAS's error page. */
export function replyMessageOf(code: ErrorCode): string {
  const spec: ErrorSpec = ERRORS[code];
  return typeof spec.radius === 'object' ? spec.radius.replyMessage : spec.message;
}

/** False for failures after which a RADIUS request gets no answer, so that the NAS retransmits. */
export function answersRadius(code: ErrorCode): boolean {
  const spec: ErrorSpec = ERRORS[code];
  return spec.radius !== 'no-answer';
}

export function isTurnpikeError(err: unknown, code?: ErrorCode): err is TurnpikeError {
  return err instanceof TurnpikeError && (code === undefined || err.code === code);
}
