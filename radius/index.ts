/** The RADIUS front door, as the composition root (`appliance/main.ts`) sees it. */
export { startRadiusServer, type RadiusServer, type RadiusServerOptions, type RadiusStats } from './server.js';
export {
  createDynamicAuthorizationClient,
  type DynamicAuthorizationClient,
  type DynamicAuthorizationClientOptions,
} from './dynamic-authorization-client.js';
export { DIALECT_RULES, COMMON_RULES, compileDialects } from './dialects.js';
export { createRadiusMetrics, type RadiusMetrics } from './radius-metrics.js';
export { instrumentDynamicAuthorization } from './instrumented-dynamic-authorization.js';
