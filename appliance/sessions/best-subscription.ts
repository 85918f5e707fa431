import type { Db, Subscription } from '../domain/model.js';
import { denialAt } from '../entitlements/entitlement.js';
import type { ErrorCode } from '../../shared/errors.js';

/**
 * Among an owner's subscriptions (ids from an index), the usable one with the most time left,
 * unlimited first, or why none is usable: the one choice RADIUS, the portal and the API make.
 */
export function bestSubscriptionAmong(
  db: Readonly<Db>,
  ids: readonly string[],
  now: number,
): { subscription: Subscription } | { denial: ErrorCode } {
  let quotaSpent = false;
  let best: Subscription | null = null;
  let bestLeft = -1;
  for (const id of ids) {
    const subscription = db.subscriptions[id];
    if (!subscription) continue;
    const denial = denialAt(db, subscription, now);
    if (denial) {
      quotaSpent ||= denial === 'TP_ERR_QUOTA_EXHAUSTED';
      continue;
    }
    const left = subscription.endsAt === null ? Number.MAX_SAFE_INTEGER : subscription.endsAt - now;
    if (left > bestLeft) [best, bestLeft] = [subscription, left];
  }
  if (best) return { subscription: best };
  return { denial: quotaSpent ? 'TP_ERR_QUOTA_EXHAUSTED' : 'TP_ERR_ENTITLEMENT_EXPIRED' };
}
