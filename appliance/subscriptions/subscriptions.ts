import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Db, Plan, Subscription, SubscriptionSource } from '../domain/model.js';
import type { Entitlement } from '../entitlements/entitlement.js';
import type { IndexSource } from '../sessions/collection-index.js';
import { activeEntitlementFor, entitlementOf } from '../sessions/owner-entitlements.js';
import { sessionIndexesOf } from '../sessions/session-indexes.js';
import { TurnpikeError } from '../../shared/errors.js';
import { quotaResetsAt } from '../quotas/usage-period.js';
import type { Store } from '../store/store.js';
import { auditIn, SYSTEM, type Actor } from '../accounts/audit.js';

export interface GrantInput {
  userId: string | null;
  voucherCode: string | null;
  plan: Plan;
  source: SubscriptionSource;
  sourceRef: string | null;
}

/**
 * Adds a subscription to `db` (call inside `store.update`). The clock starts
 * now: a plan's duration runs from the moment it is granted.
 */
export function grantIn(db: Db, now: number, input: GrantInput): Subscription {
  if (!input.userId && !input.voucherCode)
    throw new TurnpikeError('TP_ERR_VALIDATION', 'a subscription needs an owner');
  const subscription: Subscription = {
    id: randomUUID(),
    userId: input.userId,
    voucherCode: input.userId ? null : input.voucherCode,
    planId: input.plan.id,
    source: input.source,
    sourceRef: input.sourceRef,
    status: 'active',
    startedAt: now,
    endsAt: input.plan.durationSeconds === null ? null : now + input.plan.durationSeconds * 1000,
    bytesUsed: 0,
    cancelAtPeriodEnd: false,
    createdAt: now,
    updatedAt: now,
  };
  db.subscriptions[subscription.id] = subscription;
  return subscription;
}

export async function grantSubscription(store: Store, clock: Clock, input: GrantInput): Promise<Subscription> {
  return store.update((db) => grantIn(db, clock.now(), input));
}

/** Staff hand a user a plan (compensation, a colleague, a guest at the desk); recorded with who did it. */
export async function staffGrant(
  store: Store,
  clock: Clock,
  input: { userId: string; planId: string; staffUserId: string },
  actor: Actor = SYSTEM,
): Promise<Subscription> {
  return store.update((db, histories) => {
    const plan = db.plans[input.planId];
    if (!plan || plan.archived) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no plan ${input.planId}`);
    if (!db.users[input.userId]) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no user ${input.userId}`);
    const granted = grantIn(db, clock.now(), {
      userId: input.userId,
      voucherCode: null,
      plan,
      source: 'staff-grant',
      sourceRef: input.staffUserId,
    });
    auditIn(histories, granted.createdAt, actor, {
      action: 'subscription.granted',
      target: input.userId,
      after: { ...granted },
      details: { subscriptionId: granted.id, planId: plan.id },
    });
    return granted;
  });
}

/**
 * The one rule for adding to a subscription, whoever adds it (staff, a one-off payment, a voucher
 * or paid top-up). Time runs from the current end while it is still running, else from now; a
 * subscription without an end keeps none. Data (`bytes`, a top-up) adds to the current usage
 * period's quota. The subscription is active afterwards.
 */
export function extendIn(subscription: Subscription, now: number, seconds: number, bytes = 0): void {
  if (subscription.endsAt !== null && seconds > 0)
    subscription.endsAt = Math.max(subscription.endsAt, now) + seconds * 1000;
  if (bytes > 0) subscription.topUpBytes = (subscription.topUpBytes ?? 0) + bytes;
  subscription.status = 'active';
  subscription.updatedAt = now;
}

/** Staff add time; an expired subscription comes back, a cancelled or suspended one does not. */
export async function extendSubscription(
  store: Store,
  clock: Clock,
  id: string,
  seconds: number,
  actor: Actor = SYSTEM,
): Promise<Subscription> {
  if (!Number.isSafeInteger(seconds) || seconds <= 0)
    throw new TurnpikeError('TP_ERR_VALIDATION', 'seconds: a positive integer');
  return store.update((db, histories) => {
    const current = db.subscriptions[id];
    if (!current) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no subscription ${id}`);
    if (current.status === 'cancelled' || current.status === 'suspended') {
      throw new TurnpikeError('TP_ERR_CONFLICT', `subscription ${id} is ${current.status}`);
    }
    const before = { status: current.status, endsAt: current.endsAt };
    const now = clock.now();
    extendIn(current, now, seconds);
    auditIn(histories, now, actor, {
      action: 'subscription.extended',
      target: current.userId ?? current.voucherCode,
      before,
      after: { status: current.status, endsAt: current.endsAt },
      details: { subscriptionId: id, seconds },
    });
    return { ...current };
  });
}

export async function expireSubscription(store: Store, clock: Clock, id: string): Promise<Subscription> {
  return store.update((db) => {
    const current = db.subscriptions[id];
    if (!current) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no subscription ${id}`);
    const now = clock.now();
    const next: Subscription = {
      ...current,
      status: 'expired',
      endsAt: Math.min(current.endsAt ?? now, now),
      updatedAt: now,
    };
    db.subscriptions[id] = next;
    return next;
  });
}

/** Charges used bytes; counts never go down. */
export async function addBytesUsed(store: Store, clock: Clock, id: string, bytes: number): Promise<Subscription> {
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw new TurnpikeError('TP_ERR_VALIDATION', 'bytes: a non-negative integer');
  return store.update((db) => {
    const current = db.subscriptions[id];
    if (!current) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no subscription ${id}`);
    const next = { ...current, bytesUsed: current.bytesUsed + bytes, updatedAt: clock.now() };
    db.subscriptions[id] = next;
    return next;
  });
}

/** Marks subscriptions whose time has run out; returns how many changed. For the scheduler. */
export async function expireDue(store: Store, clock: Clock): Promise<number> {
  const now = clock.now();
  const due = Object.values(store.db.subscriptions).filter(
    (s) =>
      (s.status === 'active' || s.status === 'past_due') &&
      s.endsAt !== null &&
      s.endsAt <= now &&
      !isRecurringPaid(store.db, s),
  );
  if (due.length === 0) return 0;
  return store.update((db) => {
    let changed = 0;
    for (const { id } of due) {
      const current = db.subscriptions[id];
      if (current && current.status === 'active' && current.endsAt !== null && current.endsAt <= now) {
        db.subscriptions[id] = { ...current, status: 'expired', updatedAt: now };
        changed += 1;
      }
    }
    return changed;
  });
}

/** Recurring paid plans are renewed or ended by the payments side, not by the clock. */
function isRecurringPaid(db: Readonly<Db>, subscription: Subscription): boolean {
  return subscription.source === 'payment' && db.plans[subscription.planId]?.recurring === true;
}

export interface SubscriptionStatus {
  subscription: Subscription;
  planName: string;
  usable: boolean;
  secondsLeft: number | null;
  bytesLeft: number | null;
  /** When the data quota is whole again; null = not before a renewal. */
  quotaResetsAt: number | null;
  liveSessions: number;
}

/** Every subscription of an owner, newest first, with what is left of each. */
export function subscriptionsOf(source: IndexSource, ownerKey: string, now: number): SubscriptionStatus[] {
  const db = source.db;
  const best = activeEntitlementFor(source, ownerKey, now);
  const bestId = 'entitlement' in best ? best.entitlement.subscription.id : null;
  return sessionIndexesOf(source)
    .subscriptionsByOwner.lookup(db, ownerKey)
    .map((id) => db.subscriptions[id]!)
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((subscription) => {
      const entitlement: Entitlement | null = entitlementOf(source, subscription, now);
      return {
        subscription,
        planName: entitlement?.plan.name ?? '?',
        usable: subscription.id === bestId || (entitlement !== null && isUsable(entitlement)),
        secondsLeft: entitlement?.secondsLeft ?? null,
        bytesLeft: entitlement?.bytesLeft ?? null,
        quotaResetsAt: entitlement ? quotaResetsAt(entitlement.plan, subscription, now, db.settings.timeZone) : null,
        liveSessions: entitlement?.liveSessions ?? 0,
      };
    });
}

function isUsable(entitlement: Entitlement): boolean {
  const { subscription, secondsLeft, bytesLeft } = entitlement;
  if (subscription.status !== 'active' && subscription.status !== 'past_due') return false;
  if (secondsLeft !== null && secondsLeft <= 0) return false;
  return !(bytesLeft !== null && bytesLeft <= 0 && entitlement.plan.onQuotaExhausted.action === 'disconnect');
}
