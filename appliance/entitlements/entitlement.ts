import type { Db, Plan, Subscription } from '../domain/model.js';
import type { ErrorCode } from '../../shared/errors.js';
import { peekRow } from '../store/staged-mutation.js';

/**
 * What a guest may use right now. Every door (portal status page, RADIUS
 * Access-Accept, gateway AllowClient, RFC 8908 API) reads limits from here so
 * that they always agree.
 */
export interface Entitlement {
  subscription: Subscription;
  plan: Plan;
  ownerKey: string;
  /** null = no time limit. */
  secondsLeft: number | null;
  /** null = no data limit. */
  bytesLeft: number | null;
  liveSessions: number;
}

/** Whose allowance a session draws on: a user account, or an account-less voucher guest. */
export function ownerKeyOf(subscription: Pick<Subscription, 'userId' | 'voucherCode'>): string {
  if (subscription.userId) return `user:${subscription.userId}`;
  return `voucher:${subscription.voucherCode ?? ''}`;
}

/** The data a subscription may use in its current period: the plan's quota plus any top-ups (null = no limit). */
export function quotaOf(plan: Pick<Plan, 'quotaBytes'>, subscription: Pick<Subscription, 'topUpBytes'>): number | null {
  return plan.quotaBytes === null ? null : plan.quotaBytes + (subscription.topUpBytes ?? 0);
}

/** Time and data left of a subscription (null = no limit): the one rule every door reads. */
export function remainingOf(
  plan: Pick<Plan, 'quotaBytes'>,
  subscription: Pick<Subscription, 'endsAt' | 'bytesUsed' | 'topUpBytes'>,
  now: number,
): { secondsLeft: number | null; bytesLeft: number | null } {
  const quota = quotaOf(plan, subscription);
  return {
    secondsLeft: subscription.endsAt === null ? null : Math.max(0, Math.floor((subscription.endsAt - now) / 1000)),
    bytesLeft: quota === null ? null : Math.max(0, quota - subscription.bytesUsed),
  };
}

/** Why a subscription cannot carry a session now, or null when it can. */
export function denialOf(entitlement: Entitlement): ErrorCode | null {
  const { subscription, secondsLeft, bytesLeft, plan } = entitlement;
  if (subscription.status !== 'active' && subscription.status !== 'past_due') return 'TP_ERR_ENTITLEMENT_EXPIRED';
  if (secondsLeft !== null && secondsLeft <= 0) return 'TP_ERR_ENTITLEMENT_EXPIRED';
  if (bytesLeft !== null && bytesLeft <= 0 && plan.onQuotaExhausted.action === 'disconnect')
    return 'TP_ERR_QUOTA_EXHAUSTED';
  return null;
}

/** Normalises a MAC in any common notation (aa-bb-…, aabb.ccdd.eeff, AABBCC…) to aa:bb:cc:dd:ee:ff. */
export function normalizeMac(raw: string): string | null {
  const hex = raw.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || raw.replace(/[0-9a-fA-F:.\-\s]/g, '') !== '') return null;
  return hex.match(/.{2}/g)!.join(':');
}

/**
 * What a subscription allows now, for a caller that has counted the owner's live sessions: the
 * RADIUS hot path in the pass that checks the device limit, others through the sessions index
 * (`entitlementOf` in sessions/owner-entitlements.ts).
 */
export function entitlementWith(
  db: Readonly<Db>,
  subscription: Subscription,
  now: number,
  liveSessions: number,
): Entitlement | null {
  // Peeked: inside a mutation (accounting, on every update) a plan is only read, never drafted.
  const plan = peekRow(db.plans, subscription.planId);
  if (!plan) return null;
  return {
    subscription,
    plan,
    ownerKey: ownerKeyOf(subscription),
    ...remainingOf(plan, subscription, now),
    liveSessions,
  };
}

/**
 * `denialOf(entitlementOf(…))` without counting live sessions, which the verdict does not need:
 * cheap enough to run on every accounting packet.
 */
export function denialAt(db: Readonly<Db>, subscription: Subscription, now: number): ErrorCode | null {
  const entitlement = entitlementWith(db, subscription, now, 0);
  return entitlement ? denialOf(entitlement) : 'TP_ERR_ENTITLEMENT_EXPIRED';
}
