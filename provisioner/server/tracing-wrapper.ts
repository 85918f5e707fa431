import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { status, type Metadata } from '@grpc/grpc-js';
import { tracer } from '../../shared/telemetry/tracing.js';
import { withRequestId } from '../../shared/telemetry/trace-context.js';
import { statusOf } from './status.js';
import type { Wrapper } from './unary.js';

/** Must match the appliance's client interceptor (appliance/provisioning/trace-interceptor.ts). */
const REQUEST_ID_METADATA = 'x-request-id';

const metadataGetter = {
  get(carrier: Metadata, key: string): string | undefined {
    const [value] = carrier.get(key);
    return typeof value === 'string' ? value : undefined;
  },
  keys(carrier: Metadata): string[] {
    return Object.keys(carrier.getMap());
  },
};

/**
 * Continues the caller's trace: reads W3C `traceparent` and the appliance's
 * request id from the metadata and runs the call (and every wrapper inside
 * it, logging included) under a server span. Log lines of the call then carry
 * `trace_id`, `span_id` and `request_id`. Outermost, so nothing runs outside it.
 *
 * A span nothing records (tracing off, or a trace the sampler dropped) is not
 * made active: the call runs under the caller's context as extracted, so its
 * log lines still carry the trace and request id, without the span's context
 * switch and promise on every firewall change.
 */
export function tracingWrapper(): Wrapper {
  return (next) => (req, ctx) => {
    let parent = propagation.extract(ROOT_CONTEXT, ctx.metadata, metadataGetter);
    const requestId = metadataGetter.get(ctx.metadata, REQUEST_ID_METADATA);
    // Bounded, printable: the id is the appliance's UUID; anything else is not logged verbatim.
    if (requestId && /^[\w-]{1,64}$/.test(requestId)) parent = withRequestId(parent, requestId);
    const span = tracer().startSpan(
      ctx.method,
      { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': ctx.method } },
      parent,
    );
    if (!span.isRecording()) {
      span.end();
      return parent === ROOT_CONTEXT ? next(req, ctx) : context.with(parent, next, undefined, req, ctx);
    }
    return context.with(trace.setSpan(parent, span), next, undefined, req, ctx).then(
      (res) => {
        span.end();
        return res;
      },
      (err: unknown) => {
        const code = statusOf(err);
        span.setAttribute('rpc.grpc.status_code', code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: status[code] });
        span.end();
        throw err;
      },
    );
  };
}
