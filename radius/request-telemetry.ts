import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { tracer, tracingOn } from '../shared/telemetry/tracing.js';
import { Code } from './protocol/constants.js';
import type { RadiusMetrics, RadiusOutcome, RadiusRequestType } from './radius-metrics.js';

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Code).map(([name, code]) => [code, name.replace(/([a-z])([A-Z])/g, '$1-$2')]),
);

export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `code-${code}`;
}

const OUTCOMES: Record<number, RadiusOutcome> = {
  [Code.AccessAccept]: 'accept',
  [Code.AccessReject]: 'reject',
  [Code.AccountingResponse]: 'acknowledged',
};

/**
 * What the server keeps about one request for metrics and tracing: when it
 * arrived and its span. Null when neither is on, so the hot path allocates nothing.
 */
export interface RequestTelemetry {
  type: RadiusRequestType;
  nas: string;
  started: number;
  span: Span | null;
}

export function beginRequest(
  metrics: RadiusMetrics | undefined,
  type: RadiusRequestType,
  nas: string,
): RequestTelemetry | null {
  const traced = tracingOn();
  if (!metrics && !traced) return null;
  const span = traced
    ? tracer().startSpan(
        `radius ${type === 'access' ? 'Access-Request' : type === 'accounting' ? 'Accounting-Request' : 'Status-Server'}`,
        {
          kind: SpanKind.SERVER,
          root: true,
          // Never User-Name, passwords or Calling-Station-Id: a User-Name may be a voucher code.
          attributes: { 'radius.nas': nas, 'radius.request': type },
        },
      )
    : null;
  return { type, nas, started: performance.now(), span };
}

/** The reply is built: count it, time it, and close the span with the decision and reason. */
export function endRequest(
  metrics: RadiusMetrics | undefined,
  request: RequestTelemetry | null,
  replyCode: number,
  reason: string | null,
): void {
  if (!request) return;
  const code = codeName(replyCode);
  const outcome = request.type === 'status' ? 'acknowledged' : (OUTCOMES[replyCode] ?? 'error');
  metrics?.request(request.type, request.nas, code, outcome, (performance.now() - request.started) / 1000);
  if (reason) metrics?.reject(reason);
  if (request.span) {
    request.span.setAttribute('radius.reply', code);
    request.span.setAttribute('radius.decision', outcome);
    if (reason) request.span.setAttribute('radius.reason', reason);
    request.span.end();
  }
}

/** The request failed before a reply (the NAS retransmits). */
export function failRequest(metrics: RadiusMetrics | undefined, request: RequestTelemetry | null, err: unknown): void {
  if (!request) return;
  metrics?.request(request.type, request.nas, 'none', 'error', (performance.now() - request.started) / 1000);
  if (request.span) {
    request.span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
    request.span.end();
  }
}
