import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { InterceptingCall, status, type Interceptor, type Metadata } from '@grpc/grpc-js';
import { tracer } from '../../shared/telemetry/tracing.js';
import { requestIdOf } from '../../shared/telemetry/trace-context.js';

/** The header the provisioner reads the appliance's request id from. */
export const REQUEST_ID_METADATA = 'x-request-id';

const metadataSetter = {
  set(carrier: Metadata, key: string, value: string): void {
    carrier.set(key, value);
  },
};

/**
 * One job: carry the caller's trace across gRPC. Starts a client span as a
 * child of the active context, injects W3C `traceparent` and the request id
 * into the call's metadata, and ends the span with the call's status. Captures
 * the context when the call is created, which is where the caller's span is.
 */
export const traceInterceptor: Interceptor = (options, nextCall) => {
  const parent = context.active();
  const method = options.method_definition.path.split('/').pop() ?? 'unknown';
  const span = tracer().startSpan(
    `provisioner ${method}`,
    { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } },
    parent,
  );
  const callContext = trace.setSpan(parent, span);
  return new InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      propagation.inject(callContext, metadata, metadataSetter);
      const requestId = requestIdOf(parent);
      if (requestId) metadata.set(REQUEST_ID_METADATA, requestId);
      next(metadata, {
        onReceiveStatus(received, nextStatus) {
          span.setAttribute('rpc.grpc.status_code', received.code);
          if (received.code !== status.OK)
            span.setStatus({ code: SpanStatusCode.ERROR, message: status[received.code] });
          span.end();
          nextStatus(received);
        },
      });
    },
  });
};
