import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyServerFactory } from 'fastify';
import { tracer } from '../../shared/telemetry/tracing.js';
import { requestIdOf, withRequestId } from '../../shared/telemetry/trace-context.js';

/**
 * Every guest or staff request runs inside its own context: a server span (a
 * no-op while tracing is off) and the request id fastify then uses as
 * `request.id`. Spans start at the socket, so body parsing and every hook are
 * inside them. A guest's `traceparent` is ignored: the guest network is not
 * trusted to choose our trace ids or sampling.
 */
/** The span each socket-level request got, so hooks name that span and never a caller's (`inject`). */
const serverSpans = new WeakMap<IncomingMessage, Span>();

export const tracedServerFactory: FastifyServerFactory = (handler, options) => {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const span = tracer().startSpan(`${req.method ?? 'HTTP'} unmatched`, {
      kind: SpanKind.SERVER,
      root: true,
      attributes: { 'http.request.method': req.method ?? '' },
    });
    if (span.isRecording()) serverSpans.set(req, span);
    const ctx = withRequestId(trace.setSpan(ROOT_CONTEXT, span), randomUUID());
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(ctx, () => {
      // Body chunks arrive from the socket, outside this call; binding keeps them in the request's context.
      context.bind(ctx, req);
      handler(req, res);
    });
  });
  // What fastify sets on the servers it creates itself.
  const timeouts = options as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
  server.keepAliveTimeout = timeouts.keepAliveTimeout ?? 72_000;
  server.requestTimeout = timeouts.requestTimeout ?? 0;
  server.setTimeout(timeouts.connectionTimeout ?? 0);
  return server;
};

/** fastify's request id is the one the context already carries (and a fresh one under `inject`). */
export const requestIdFromContext = (): string => requestIdOf() ?? randomUUID();

/** Names the span after the route pattern, never the URL: a query may hold a token. */
export const httpTracing = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request) => {
      const span = serverSpans.get(request.raw);
      if (!span) return;
      const route = request.routeOptions.url ?? 'unmatched';
      span.updateName(`${request.method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('turnpike.request_id', request.id);
    });
  },
  { name: 'turnpike-http-tracing' },
);
