import type { Clock } from '../../shared/clock.js';
import type { Subscription } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';
import { grantIn } from './subscriptions.js';

/**
 * Grants a free-tier plan once per device per period. The device is its MAC
 * when the network told us one, else the portal's device id: a guest cannot
 * reset the allowance by signing up again.
 */
export async function takeFreeTier(
  store: Store,
  clock: Clock,
  input: { userId: string; planId: string; deviceKey: string },
): Promise<Subscription> {
  return store.update((db) => {
    const plan = db.plans[input.planId];
    if (!plan || plan.archived || !plan.freeTier) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'no such free plan');
    const now = clock.now();
    const key = `${plan.id}|${input.deviceKey}`;
    const userKey = `${plan.id}|user:${input.userId}`;
    const periodMs = plan.freeTier.periodSeconds * 1000;
    for (const usedKey of [key, userKey]) {
      const last = db.freeTierUses[usedKey];
      if (last !== undefined && now - last < periodMs) {
        throw new TurnpikeError('TP_ERR_FREE_TIER_USED', undefined, { retryAt: last + periodMs });
      }
    }
    db.freeTierUses[key] = now;
    db.freeTierUses[userKey] = now;
    return grantIn(db, now, {
      userId: input.userId,
      voucherCode: null,
      plan,
      source: 'free-tier',
      sourceRef: input.deviceKey,
    });
  });
}

/** Drops free-tier marks older than any period, so the map stays bounded. */
export async function pruneFreeTierUses(store: Store, clock: Clock): Promise<number> {
  const now = clock.now();
  const longest = Math.max(
    0,
    ...Object.values(store.db.plans).map((plan) => (plan.freeTier?.periodSeconds ?? 0) * 1000),
  );
  const stale = Object.entries(store.db.freeTierUses).filter(([, at]) => now - at >= longest);
  if (stale.length === 0) return 0;
  return store.update((db) => {
    for (const [key] of stale) delete db.freeTierUses[key];
    return stale.length;
  });
}
