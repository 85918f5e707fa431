import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../appliance/config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../appliance/metrics.js';
import { accessControl, type Authenticator } from './plugins/access-control.js';
import { deferredSchemas } from './plugins/deferred-schemas.js';
import { errorShape } from './plugins/error-shape.js';
import { httpTracing, requestIdFromContext, tracedServerFactory } from './plugins/http-tracing.js';
import { observability, type ReadinessCheck } from './plugins/observability.js';
import { openapi } from './plugins/openapi.js';
import { requestLogSerializers } from './plugins/request-log.js';
import { security } from './plugins/security.js';

export interface PortalFoundation {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  readiness: ReadinessCheck[];
  /** Signs cookies (device binding, CSRF); from the appliance's secrets. */
  cookieSecret: string;
}

/**
 * The fastify instance with everything every route relies on: error shape,
 * security, deny-by-default access control, OpenAPI and observability.
 * Feature routes are registered on it by `portal/portal.ts`.
 */
export async function buildPortalFoundation(deps: PortalFoundation): Promise<FastifyInstance> {
  // Route schemas compile at first use (or in the background once listening), not before the portal answers.
  const schemas = deferredSchemas();
  const app = Fastify({
    // Route patterns and redacted queries only: URLs carry emailed tokens and NAS credentials.
    loggerInstance: deps.logger.child(
      { component: 'portal' },
      { serializers: requestLogSerializers },
    ) as FastifyBaseLogger,
    bodyLimit: deps.config.portal.bodyLimitBytes,
    trustProxy: deps.config.portal.trustProxy,
    genReqId: requestIdFromContext,
    serverFactory: tracedServerFactory,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    schemaController: { compilersFactory: schemas.compilersFactory },
  });
  app.addHook('onListen', async () => schemas.compileRest(app.log));
  await app.register(httpTracing);
  await app.register(errorShape);
  await app.register(openapi);
  await app.register(security, { config: deps.config, cookieSecret: deps.cookieSecret });
  await app.register(accessControl, { authenticator: deps.authenticator });
  await app.register(observability, { metrics: deps.metrics, readiness: deps.readiness });
  return app;
}
