import type { Db, Plan, Subscription } from '../domain/model.js';
import { remainingOf } from '../entitlements/entitlement.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { IndexSource } from '../sessions/collection-index.js';
import { sessionIndexesOf } from '../sessions/session-indexes.js';
import { extendIn } from './subscriptions.js';

/**
 * Top-up in place: a guest whose data is spent on a plan that throttles (rather than cuts) buys
 * more data without a new login. The bought plan's data allowance is added to the running
 * subscription for its current usage period through the one extend rule; the caller then tells
 * the live sessions their new limits (a CoA, or a new firewall rate), which lifts the throttle.
 */

/** The plans that add data: on sale, paid once (not recurring, not a free tier), with a data allowance. */
export function topUpPlansOf(db: Readonly<Db>): Plan[] {
  return Object.values(db.plans)
    .filter(
      (plan) =>
        plan.visible &&
        !plan.archived &&
        !plan.recurring &&
        plan.freeTier === null &&
        plan.priceMinor > 0 &&
        plan.quotaBytes !== null,
    )
    .sort((a, b) => a.priceMinor - b.priceMinor || a.name.localeCompare(b.name));
}

/** Whether a subscription is running with its data spent on a plan that throttles: what a top-up lifts. */
export function isThrottled(db: Readonly<Db>, subscription: Subscription, now: number): boolean {
  const plan = db.plans[subscription.planId];
  if (!plan || plan.onQuotaExhausted.action !== 'throttle') return false;
  // Only an active one: extending makes it active, which must not clear a renewal still unpaid.
  if (subscription.status !== 'active') return false;
  const { secondsLeft, bytesLeft } = remainingOf(plan, subscription, now);
  return (secondsLeft === null || secondsLeft > 0) && bytesLeft !== null && bytesLeft <= 0;
}

export interface TopUpOffer {
  subscriptionId: string;
  plans: Plan[];
}

/**
 * What the status page offers an owner whose data is spent and throttled (the plans to pay for,
 * and a voucher always will do); null when nothing is throttled. Every guest's status page asks,
 * so the owner's subscriptions come from the index, not a walk of all of them.
 */
export function topUpOfferFor(source: IndexSource, ownerKey: string, now: number): TopUpOffer | null {
  const db = source.db;
  for (const id of sessionIndexesOf(source).subscriptionsByOwner.lookup(db, ownerKey)) {
    const subscription = db.subscriptions[id];
    if (subscription && isThrottled(db, subscription, now)) return { subscriptionId: id, plans: topUpPlansOf(db) };
  }
  return null;
}

/** Checks a top-up before the guest pays for it: their own running subscription, a plan that adds data. */
export function assertTopUp(db: Readonly<Db>, userId: string, subscriptionId: string, plan: Plan): void {
  const subscription = db.subscriptions[subscriptionId];
  if (!subscription || subscription.userId !== userId)
    throw new TurnpikeError('TP_ERR_NOT_FOUND', `no subscription ${subscriptionId}`);
  if (!topUpPlansOf(db).some((candidate) => candidate.id === plan.id))
    throw new TurnpikeError('TP_ERR_VALIDATION', `plan ${plan.name} adds no data to a running plan`);
  if (subscription.status !== 'active')
    throw new TurnpikeError('TP_ERR_CONFLICT', `subscription ${subscriptionId} is ${subscription.status}`);
}

/**
 * Adds the plan's data to the subscription (call inside `store.update`). Returns the bytes added,
 * or 0 when the subscription no longer runs (the caller then grants the plan on its own).
 */
export function topUpIn(db: Db, now: number, subscriptionId: string, plan: Plan): number {
  const subscription = db.subscriptions[subscriptionId];
  if (!subscription || plan.quotaBytes === null) return 0;
  if (subscription.status !== 'active') return 0;
  if (subscription.endsAt !== null && subscription.endsAt <= now) return 0;
  extendIn(subscription, now, 0, plan.quotaBytes);
  return plan.quotaBytes;
}
