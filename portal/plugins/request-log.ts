import type { FastifyRequest } from 'fastify';

/**
 * Query parameters whose values are secrets or one-time credentials: emailed tokens, codes,
 * NAS hand-off fields (CoovaChilli `response`/`password`/`challenge`, MikroTik `chap-*`), keys,
 * signatures and sessions. Matched as a part of the name, so `mfaToken` and `chap-challenge` count.
 */
const SECRET_PARAMETER = /token|code|pass|secret|response|challenge|chap|key|sig|hash|auth|session|otp|ticket|nonce/i;

export const REDACTED = '[redacted]';

/** A query as it may be logged: secret-bearing values replaced, the rest cut short. */
export function redactedQuery(query: unknown): Record<string, string> | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const entries = Object.entries(query as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  const shown: Record<string, string> = {};
  for (const [name, value] of entries.slice(0, 20)) {
    const text = Array.isArray(value) ? value.join(',') : String(value);
    shown[name.slice(0, 64)] = SECRET_PARAMETER.test(name) ? REDACTED : text.slice(0, 128);
  }
  return shown;
}

/** The raw request of a log line that fastify writes before routing (client errors): its path only. */
interface RawRequestLike {
  method?: string;
  url?: string;
}

/**
 * How a request appears in the log: the route's pattern (`/auth/reset-password`, `/api/v1/users/:id`),
 * never the URL as sent, and its query with secrets redacted. Emailed tokens and NAS credentials
 * travel in URLs; the log is read by more people than the guest who received them.
 */
export function requestLogView(request: FastifyRequest | RawRequestLike) {
  if (!('routeOptions' in request)) {
    return { method: request.method, route: 'unrouted' };
  }
  return {
    method: request.method,
    route: request.routeOptions.url ?? 'unmatched',
    query: redactedQuery(request.query),
    remoteAddress: request.ip,
  };
}

/** Pino serializers for the portal's logger: they replace fastify's, which log the full URL. */
export const requestLogSerializers = { req: requestLogView };
