import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../appliance/config/schema.js';
import { CAPTIVE_API_PATH } from '../../appliance/guest-access/captive-portal-uri.js';
import { visiblePlans } from '../../appliance/plans/plans.js';
import type { Store } from '../../appliance/store/store.js';
import { clientEntitlement } from './client-access.js';

/**
 * RFC 8908 Captive Portal API, per client (by source address): whether it is
 * still captive, where to log in, and — once in — the time and data left and
 * whether it can buy or extend.
 */
export async function captiveApi(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; config: Config },
): Promise<void> {
  const base = deps.config.portal.publicUrl.replace(/\/$/, '');
  app.get(CAPTIVE_API_PATH, { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const db = deps.store.db;
    const entitlement = clientEntitlement(deps.store, request.ip, deps.clock.now());
    const canBuy = visiblePlans(db).some((plan) => plan.priceMinor > 0);
    const body: Record<string, unknown> = {
      captive: entitlement === null,
      'user-portal-url': `${base}/portal`,
      'venue-info-url': `${base}/portal`,
      'can-extend-session': canBuy || (entitlement !== null && visiblePlans(db).length > 0),
    };
    if (entitlement) {
      if (entitlement.secondsLeft !== null) body['seconds-remaining'] = entitlement.secondsLeft;
      if (entitlement.bytesLeft !== null) body['bytes-remaining'] = entitlement.bytesLeft;
    }
    return reply
      .type('application/captive+json')
      .header('cache-control', 'private, no-store')
      .send(Buffer.from(JSON.stringify(body)));
  });
}
