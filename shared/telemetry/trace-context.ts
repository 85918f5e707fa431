import { context, createContextKey, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * The async context every process of the box carries, tracing on or off: the
 * active span (when tracing is on) and the request id that started the work, so
 * a log line written deep in the store or the provisioner says which request
 * it belongs to. Knows no domain; the provisioner imports it too.
 */
const REQUEST_ID = createContextKey('turnpike.request_id');

let installed = false;

/** Installs the AsyncLocalStorage context manager once per process; later calls are no-ops. */
export function installTraceContext(): void {
  if (installed) return;
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
  installed = true;
}

export function withRequestId(ctx: Context, requestId: string): Context {
  return ctx.setValue(REQUEST_ID, requestId);
}

export function requestIdOf(ctx: Context = context.active()): string | undefined {
  const value = ctx.getValue(REQUEST_ID);
  return typeof value === 'string' ? value : undefined;
}

export interface CorrelationFields {
  trace_id?: string;
  span_id?: string;
  request_id?: string;
}

/** The fields a log line carries to be joined with its trace (pino `mixin`). */
export function correlationFields(): CorrelationFields {
  const active = context.active();
  const fields: CorrelationFields = {};
  const span = trace.getSpanContext(active);
  if (span && trace.isSpanContextValid(span)) {
    fields.trace_id = span.traceId;
    fields.span_id = span.spanId;
  }
  const requestId = requestIdOf(active);
  if (requestId) fields.request_id = requestId;
  return fields;
}
