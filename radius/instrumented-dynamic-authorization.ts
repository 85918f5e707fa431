import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { DynamicAuthorizationResult, DynamicAuthorizationTarget } from '../appliance/sessions/enforcer.js';
import { tracer } from '../shared/telemetry/tracing.js';
import type { DynamicAuthorizationClient } from './dynamic-authorization-client.js';
import type { RadiusMetrics } from './radius-metrics.js';

type Kind = 'disconnect' | 'coa';

/**
 * The RFC 5176 client with its outcomes counted and each exchange a client
 * span under whatever caused it (a staff kick, an accounting packet that spent
 * a quota, a plan's end in the sweeper), so the trace shows why a NAS was told.
 */
export function instrumentDynamicAuthorization(
  client: DynamicAuthorizationClient,
  metrics: RadiusMetrics,
): DynamicAuthorizationClient {
  const exchange = (
    kind: Kind,
    target: DynamicAuthorizationTarget,
    send: () => Promise<DynamicAuthorizationResult>,
  ): Promise<DynamicAuthorizationResult> =>
    tracer().startActiveSpan(
      kind === 'disconnect' ? 'radius Disconnect-Request' : 'radius CoA-Request',
      { kind: SpanKind.CLIENT, attributes: { 'radius.nas': target.nas.name } },
      async (span) => {
        try {
          const result = await send();
          metrics.dynamicAuthorization(kind, target.nas.name, result.outcome);
          span.setAttribute('radius.outcome', result.outcome);
          span.setAttribute('radius.attempts', result.attempts);
          if (result.outcome === 'nak' && result.errorCauseName)
            span.setAttribute('radius.error_cause', result.errorCauseName);
          return result;
        } catch (err) {
          metrics.dynamicAuthorization(kind, target.nas.name, 'error');
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  return {
    disconnect: (target) => exchange('disconnect', target, () => client.disconnect(target)),
    changeAuthorization: (target, limits) => exchange('coa', target, () => client.changeAuthorization(target, limits)),
    close: () => client.close(),
  };
}
