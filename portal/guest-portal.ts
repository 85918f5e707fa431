import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../appliance/config/schema.js';
import { GuestAccess } from '../appliance/guest-access/guest-access.js';
import { createArpLookup } from '../appliance/guest-access/neighbour-table.js';
import type { Logger } from '../shared/logger.js';
import type { AccessPort } from '../appliance/provisioning/access-port.js';
import type { Store } from '../appliance/store/store.js';
import { GuessLimiter, type GuessLimiterOptions } from '../appliance/vouchers/guess-limiter.js';
import { plansApi } from './api/plans.js';
import { settingsApi } from './api/settings.js';
import { vouchersApi } from './api/vouchers.js';
import { captiveApi } from './captive/captive-api.js';
import { captiveProbes } from './captive/probes.js';
import { createErrorPage as errorPageOf, type ErrorPage } from './pages/error-page.js';
import { readContext } from './pages/guest-context.js';
import { guestPages } from './pages/guest-pages.js';
import { finishLogin } from './pages/journey.js';
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
  /** Gateway mode: MAC of a client address; defaults to the kernel ARP table when the gateway is enabled. */
  macOfAddress?: (ip: string) => string | null;
  guessLimits?: Partial<GuessLimiterOptions>;
  voucherRateLimitPerMinute?: number;
  /** Tells a subscription's live sessions their new limits (the enforcer: CoA, or a new firewall rate). */
  limitsChanged?: (subscriptionId: string) => Promise<unknown>;
}

/** Finishes a guest's login from any route (e.g. the payment return page): NAS hand-off or gateway allow. */
export type CompleteLogin = (request: FastifyRequest, reply: FastifyReply, ownerKey: string) => Promise<void>;

function guestAccessOf(deps: GuestPortalDeps): GuestAccess {
  return new GuestAccess({
    store: deps.store,
    clock: deps.clock,
    accessPort: deps.config.gateway.enabled ? deps.accessPort : null,
    logger: deps.logger,
    interimIntervalSeconds: deps.config.radius.interimIntervalSeconds,
    openEndedSeconds: deps.config.gateway.openEndedSessionSeconds,
  });
}

function macLookupOf(deps: GuestPortalDeps): ((ip: string) => string | null) | undefined {
  if (!deps.config.gateway.enabled) return undefined;
  return deps.macOfAddress ?? createArpLookup();
}

/** For the payments side: after a paid checkout, continue exactly like a voucher or free-tier login. */
export function createCompleteLogin(deps: GuestPortalDeps): CompleteLogin {
  const journey = {
    store: deps.store,
    clock: deps.clock,
    config: deps.config,
    secret: deps.secret,
    // A guest back from the payment provider is found on the LAN like one who never left.
    macOfAddress: macLookupOf(deps),
    guestAccess: guestAccessOf(deps),
  };
  return async (request, reply, ownerKey) => {
    const context = readContext(journey, request, reply);
    await finishLogin(journey, { ...context, ownerKey }, ownerKey, reply);
  };
}

/** For the payments side: a failed checkout answers with the guest portal's own error page. */
export function createErrorPage(deps: GuestPortalDeps): ErrorPage {
  const context = { store: deps.store, clock: deps.clock, config: deps.config, secret: deps.secret };
  return errorPageOf(context, new PageRenderer());
}

/** Everything of the guest journey: captive pages, OS probes, RFC 8908 API, plans, voucher and settings APIs. */
export async function registerGuestPortal(app: FastifyInstance, deps: GuestPortalDeps): Promise<void> {
  const guestAccess = guestAccessOf(deps);
  const shared = { store: deps.store, clock: deps.clock, config: deps.config };
  // Encapsulated so that its HTML error handler answers only for the guest pages.
  await app.register(async (pages) =>
    guestPages(pages, {
      ...shared,
      secret: deps.secret,
      macOfAddress: macLookupOf(deps),
      guestAccess,
      renderer: new PageRenderer(),
      accounts: deps.accounts,
      guessLimiter: new GuessLimiter({ store: deps.store, clock: deps.clock, limits: deps.guessLimits ?? {} }),
      ...(deps.voucherRateLimitPerMinute !== undefined
        ? { voucherRateLimitPerMinute: deps.voucherRateLimitPerMinute }
        : {}),
      ...(deps.limitsChanged ? { limitsChanged: deps.limitsChanged } : {}),
    }),
  );
  await app.register(async (probes) => captiveProbes(probes, shared));
  await app.register(async (api) => captiveApi(api, shared));
  await app.register(async (api) => plansApi(api, shared));
  await app.register(async (api) => vouchersApi(api, shared));
  await app.register(async (api) => settingsApi(api, { ...shared, logger: deps.logger }));
}
