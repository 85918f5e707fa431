import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import { denialAt } from '../entitlements/entitlement.js';
import type { Leases } from '../leases/leases.js';
import type { Logger } from '../../shared/logger.js';
import type { Scheduler } from '../scheduler.js';
import type { SessionEnforcer } from '../sessions/enforcer.js';
import { endReasonOf } from '../sessions/enforcement-decision.js';
import type { Store } from '../store/store.js';
import { createPayments, type Payments } from './payments.js';

/** How often past-due plans are checked against the grace period. */
export const GRACE_SWEEP_MS = 60_000;

export interface RunningPayments {
  payments: Payments;
  /** The embedded Stripe fake's URL, or null when talking to Stripe (or a fake started elsewhere). */
  fakeUrl: string | null;
  /** Call once the portal listens: webhooks can arrive, so missed events are recovered and polling starts. */
  portalListening(portalUrl: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the Stripe fake (a front door under portal/); main passes it in so the domain never imports portal/. */
export type EmbeddedFakeStarter = (config: Config) => Promise<{
  payments: Config['payments'];
  fake: { url: string; close(): Promise<void> };
  deliverTo(portalUrl: string): void;
}>;

export interface StartPaymentsDeps {
  config: Config;
  startEmbeddedFake: EmbeddedFakeStarter;
  embedded: boolean;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Gateway mode: converge the firewall now rather than at the next reconcile round. */
  gatewayChanged?: () => void;
  enforcer: Pick<SessionEnforcer, 'endSubscription' | 'refreshLimits'>;
  /** Shared with the other appliances on the store: one applies provider events at a time. */
  leases?: Leases;
  /** Runs the event poll and the grace sweep as jobs (one appliance each); without it, own timers. */
  scheduler?: Pick<Scheduler, 'add'>;
}

/**
 * Builds the payments domain from config (null when no provider is set) and
 * connects its entitlement changes to live sessions: a plan that no longer
 * carries a session (suspended, cancelled, refunded) is disconnected at the NAS,
 * one that still does (bought again, renewed, changed) has its new limits sent by CoA.
 */
export async function startPayments(deps: StartPaymentsDeps): Promise<RunningPayments | null> {
  const { config, store, clock, logger, enforcer } = deps;
  if (config.payments.provider === 'none') return null;

  let section = config.payments;
  let fake: { url: string; close(): Promise<void>; deliverTo(portalUrl: string): void } | null = null;
  if (section.provider === 'stripe-fake' && (deps.embedded || !section.apiBase)) {
    const started = await deps.startEmbeddedFake(config);
    section = started.payments;
    fake = { url: started.fake.url, close: () => started.fake.close(), deliverTo: started.deliverTo };
  }

  // The Stripe SDK is imported only when a provider is configured: a box without payments never holds it.
  const { createStripeClient } = await import('./stripe-client.js');
  const payments = createPayments({
    store,
    clock,
    logger,
    config: { payments: section },
    stripe: createStripeClient(section),
    ...(deps.leases ? { leases: deps.leases } : {}),
    ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
    onEntitlementChanged: async (subscriptionId) => {
      deps.gatewayChanged?.();
      const subscription = store.db.subscriptions[subscriptionId];
      const denial = subscription ? denialAt(store.db, subscription, clock.now()) : 'TP_ERR_ENTITLEMENT_EXPIRED';
      if (denial === null) {
        await enforcer.refreshLimits(subscriptionId);
        return;
      }
      await enforcer.endSubscription(subscriptionId, endReasonOf(subscription, denial));
    },
  });

  let sweeper: NodeJS.Timeout | null = null;
  const sweepGrace = (): Promise<unknown> => payments.sweepGracePeriods(clock.now());
  return {
    payments,
    fakeUrl: fake?.url ?? null,
    async portalListening(portalUrl) {
      fake?.deliverTo(portalUrl);
      await payments.start();
      if (deps.scheduler) {
        deps.scheduler.add({ name: 'sweep grace periods', everyMs: GRACE_SWEEP_MS, run: sweepGrace });
        return;
      }
      sweeper ??= setInterval(() => {
        payments
          .sweepGracePeriods(clock.now())
          .catch((err: unknown) => logger.warn({ err }, 'grace period sweep failed'));
      }, GRACE_SWEEP_MS);
      sweeper.unref();
    },
    async stop() {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      await payments.stop();
      await fake?.close();
    },
  };
}
