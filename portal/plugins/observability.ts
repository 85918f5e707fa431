import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../appliance/metrics.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

/**
 * `/healthz`, `/readyz` and the HTTP latency histogram. Probes are exempt from
 * the guests' rate limit, so a flood cannot blind monitoring; `/metrics` lives
 * on the monitoring listener (appliance/telemetry/monitoring-listener.ts), never here.
 */
export const observability = fp(
  async (app: FastifyInstance, options: { metrics: Metrics; readiness: ReadinessCheck[] }) => {
    const { metrics } = options;

    app.addHook('onResponse', async (request, reply) => {
      metrics.httpRequestSeconds.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });

    const statusSchema = {
      type: 'object',
      required: ['status'],
      properties: {
        status: { type: 'string' },
        checks: { type: 'object', additionalProperties: { type: 'boolean' } },
      },
    } as const;

    app.get(
      '/healthz',
      { config: { public: true, rateLimit: false }, schema: { hide: true, response: { 200: statusSchema } } },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        config: { public: true, rateLimit: false },
        schema: { hide: true, response: { 200: statusSchema, 503: statusSchema } },
      },
      async (_request, reply) => {
        const results = await Promise.all(
          options.readiness.map(async (probe) => [probe.name, await probe.check().catch(() => false)] as const),
        );
        const checks = Object.fromEntries(results);
        const ready = results.every(([, ok]) => ok);
        return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
      },
    );
  },
  { name: 'turnpike-observability' },
);
