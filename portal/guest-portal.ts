import type { FastifyInstance } from 'fastify';
import type { Clock } from '../appliance/clock.js';
import type { Config } from '../appliance/config/schema.js';
import { GuestAccess } from '../appliance/guest-access/guest-access.js';
import type { Logger } from '../appliance/logger.js';
import type { AccessPort } from '../appliance/provisioning/access-port.js';
import type { Store } from '../appliance/store/store.js';
import { GuessLimiter, type GuessLimiterOptions } from '../appliance/vouchers/guess-limiter.js';
import { plansApi } from './api/plans.js';
import { vouchersApi } from './api/vouchers.js';
import { captiveApi } from './captive/captive-api.js';
import { captiveProbes } from './captive/probes.js';
import { guestPages } from './pages/guest-pages.js';
import type { PortalAccounts } from './pages/portal-accounts.js';
import { PageRenderer } from './pages/renderer.js';

export interface GuestPortalDeps {
  store: Store;
  clock: Clock;
  config: Config;
  logger: Logger;
  /** Sign-up, login, password change and the session cookies; null = voucher-only portal. */
  accounts: PortalAccounts | null;
  /** Gateway mode's firewall door (config.gateway.enabled); null in controller mode. */
  accessPort: AccessPort | null;
  /** Seals the NAS hand-off context; the appliance's cookie secret will do. */
  secret: string;
  guessLimits?: Partial<GuessLimiterOptions>;
  voucherRateLimitPerMinute?: number;
}

/** Everything of the guest journey: captive pages, OS probes, RFC 8908 API, plans and voucher APIs. */
export async function registerGuestPortal(app: FastifyInstance, deps: GuestPortalDeps): Promise<void> {
  const guestAccess = new GuestAccess({
    store: deps.store,
    clock: deps.clock,
    accessPort: deps.config.gateway.enabled ? deps.accessPort : null,
    logger: deps.logger,
    interimIntervalSeconds: deps.config.radius.interimIntervalSeconds,
  });
  const shared = { store: deps.store, clock: deps.clock, config: deps.config };
  // Encapsulated so that its HTML error handler answers only for the guest pages.
  await app.register(async (pages) =>
    guestPages(pages, {
      ...shared,
      secret: deps.secret,
      guestAccess,
      renderer: new PageRenderer(),
      accounts: deps.accounts,
      guessLimiter: new GuessLimiter(deps.clock, deps.guessLimits),
      ...(deps.voucherRateLimitPerMinute !== undefined ? { voucherRateLimitPerMinute: deps.voucherRateLimitPerMinute } : {}),
    }),
  );
  await app.register(async (probes) => captiveProbes(probes, shared));
  await app.register(async (api) => captiveApi(api, shared));
  await app.register(async (api) => plansApi(api, shared));
  await app.register(async (api) => vouchersApi(api, shared));
}
