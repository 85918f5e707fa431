import type { Clock } from '../../shared/clock.js';
import type { Store } from '../store/store.js';
import { rollUsagePeriodIn, usagePeriodAt } from './usage-period.js';

/**
 * Starts the usage periods that are due: the quota of each such subscription is whole again.
 * Returns the subscriptions whose quota came back, so their live sessions get their limits back
 * (a CoA to the NAS, a new rate for the firewall). Looks before it writes: a run with nothing due
 * changes nothing.
 */
export async function resetDueQuotas(store: Store, clock: Clock): Promise<string[]> {
  const now = clock.now();
  const { plans, subscriptions, settings } = store.db;
  const due = Object.values(subscriptions)
    .filter((subscription) => {
      const period = plans[subscription.planId]?.usagePeriod;
      if (!period || (subscription.status !== 'active' && subscription.status !== 'past_due')) return false;
      const current = usagePeriodAt(period, subscription.startedAt, now, settings.timeZone).startedAt;
      return (subscription.usagePeriodStartedAt ?? subscription.startedAt) < current;
    })
    .map((subscription) => subscription.id);
  if (due.length === 0) return [];
  return store.update((db) =>
    due.filter((id) => {
      const subscription = db.subscriptions[id];
      const plan = subscription ? db.plans[subscription.planId] : undefined;
      return (
        subscription !== undefined &&
        plan !== undefined &&
        rollUsagePeriodIn(plan, subscription, now, db.settings.timeZone)
      );
    }),
  );
}
