import type { Db, Subscription } from '../domain/model.js';
import { extendIn, grantIn } from '../subscriptions/subscriptions.js';
import { topUpIn } from '../subscriptions/top-up.js';
import { rollRefundIn } from '../reports/rollups.js';
import { issueInvoiceIn } from './invoices.js';
import { MAX_RECENT_EVENT_IDS, type Payment, type RecurringLink } from './model.js';

/**
 * What payments do to access, as mutations of `db` (call inside
 * `store.update`). Each returns the ids of subscriptions whose entitlement
 * changed, so the caller can update live sessions. Every effect is guarded by
 * a state transition, so applying the same fact twice changes nothing.
 */

export function markEventProcessedIn(db: Db, eventId: string): void {
  const recent = db.payments.processedEvents.recentIds;
  if (recent.includes(eventId)) return;
  recent.push(eventId);
  if (recent.length > MAX_RECENT_EVENT_IDS) recent.splice(0, recent.length - MAX_RECENT_EVENT_IDS);
}

/** A paid one-off checkout: extends the guest's running payment subscription of that plan, or starts one. */
export function settleOneOffIn(
  db: Db,
  now: number,
  payment: Payment,
  refs: { paymentIntentId: string | null; customerId: string | null },
): string[] {
  if (payment.status === 'paid' || payment.status === 'refunded') return [];
  payment.stripe.paymentIntentId = refs.paymentIntentId ?? payment.stripe.paymentIntentId;
  payment.stripe.customerId = refs.customerId ?? payment.stripe.customerId;
  payment.status = 'paid';
  payment.failureMessage = null;
  payment.updatedAt = now;
  const changed: string[] = [];
  const plan = db.plans[payment.planId];
  // A top-up adds its data to the subscription it was bought for; if that ended meanwhile, the plan is granted.
  const toppedUp = plan && payment.topUpOf ? topUpIn(db, now, payment.topUpOf, plan) : 0;
  if (plan && toppedUp > 0) {
    payment.subscriptionId = payment.topUpOf!;
    payment.grantedSeconds = 0;
    payment.grantedBytes = toppedUp;
    changed.push(payment.subscriptionId);
  } else if (plan) {
    const running = Object.values(db.subscriptions).find(
      (sub) =>
        sub.userId === payment.userId &&
        sub.planId === plan.id &&
        sub.source === 'payment' &&
        sub.status === 'active' &&
        sub.endsAt !== null &&
        sub.endsAt > now &&
        !isRecurringSubscription(db, sub.id),
    );
    const seconds = plan.durationSeconds ?? 0;
    if (running && seconds > 0) {
      extendIn(running, now, seconds);
      payment.subscriptionId = running.id;
    } else {
      const granted = grantIn(db, now, {
        userId: payment.userId,
        voucherCode: null,
        plan,
        source: 'payment',
        sourceRef: payment.id,
      });
      payment.subscriptionId = granted.id;
    }
    payment.grantedSeconds = seconds;
    changed.push(payment.subscriptionId);
  }
  issueInvoiceIn(db, payment, now);
  return changed;
}

function isRecurringSubscription(db: Db, subscriptionId: string): boolean {
  return Object.values(db.payments.recurring).some((link) => link.subscriptionId === subscriptionId);
}

export function failOneOffIn(db: Db, now: number, payment: Payment, message: string | null): void {
  if (payment.status !== 'pending') return;
  payment.status = 'failed';
  payment.failureMessage = message ?? 'The payment did not go through';
  payment.updatedAt = now;
}

/** The provider's current view of a subscription, already re-read from its API. */
export interface ProviderSubscription {
  id: string;
  status: string;
  cancelAtPeriodEnd: boolean;
  periodStartMs: number;
  periodEndMs: number;
  endedAtMs: number | null;
  customerId: string;
  metadata: Record<string, string>;
}

/**
 * Brings our Subscription in line with the provider's subscription, creating
 * it (and the link) the first time any event about it arrives, whichever that is.
 */
export function syncRecurringIn(db: Db, now: number, provider: ProviderSubscription, observedAt: number): string[] {
  let link: RecurringLink | undefined = db.payments.recurring[provider.id];
  if (!link) {
    const userId = provider.metadata.userId;
    const plan = provider.metadata.planId ? db.plans[provider.metadata.planId] : undefined;
    if (!userId || !plan || !db.users[userId]) return [];
    if (provider.status !== 'active' && provider.status !== 'past_due' && provider.status !== 'trialing') return [];
    const granted = grantIn(db, now, {
      userId,
      voucherCode: null,
      plan,
      source: 'payment',
      sourceRef: provider.metadata.paymentId ?? provider.id,
    });
    granted.startedAt = Math.min(now, provider.periodStartMs);
    link = {
      stripeSubscriptionId: provider.id,
      subscriptionId: granted.id,
      userId,
      planId: plan.id,
      pastDueSince: null,
    };
    db.payments.recurring[provider.id] = link;
    if (!db.payments.customers[userId]) {
      db.payments.customers[userId] = { userId, stripeCustomerId: provider.customerId, createdAt: now };
    }
  }
  const sub = db.subscriptions[link.subscriptionId];
  if (!sub) return [];
  const before = JSON.stringify(sub);
  applyProviderState(sub, link, provider, now, observedAt);
  if (JSON.stringify(sub) === before) return [];
  sub.updatedAt = now;
  return [sub.id];
}

function applyProviderState(
  sub: Subscription,
  link: RecurringLink,
  provider: ProviderSubscription,
  now: number,
  observedAt: number,
): void {
  sub.cancelAtPeriodEnd = provider.cancelAtPeriodEnd;
  switch (provider.status) {
    case 'active':
    case 'trialing':
      link.pastDueSince = null;
      sub.status = 'active';
      sub.endsAt = provider.periodEndMs;
      break;
    case 'past_due':
      link.pastDueSince ??= observedAt;
      // A guest suspended after the grace period stays suspended until a renewal is paid.
      if (sub.status !== 'suspended') sub.status = 'past_due';
      sub.endsAt = provider.periodEndMs;
      break;
    case 'unpaid':
      sub.status = 'suspended';
      break;
    case 'canceled':
    case 'incomplete_expired':
      link.pastDueSince = null;
      sub.status = 'cancelled';
      sub.endsAt = Math.min(sub.endsAt ?? now, provider.endedAtMs ?? now);
      break;
    default:
      break;
  }
}

/** The provider's current view of one recurring invoice. */
export interface ProviderInvoice {
  id: string;
  status: string;
  amountDue: number;
  currency: string;
  attempted: boolean;
  paymentIntentId: string | null;
  customerId: string | null;
  subscriptionId: string;
  periodSeconds: number;
  failureMessage: string | null;
}

/**
 * One Payment per provider invoice: paid ones get our invoice, failed ones say so. A paid invoice
 * opens a new period with the plan's whole data allowance: a monthly quota is a quota per month.
 * Returns the subscriptions whose entitlement changed (their sessions get the new limits).
 */
export function recordRecurringInvoiceIn(
  db: Db,
  now: number,
  provider: ProviderInvoice,
  checkoutPaymentId: string | null,
): string[] {
  const link = db.payments.recurring[provider.subscriptionId];
  if (!link) return [];
  const payments = db.payments.payments;
  let payment = Object.values(payments).find((item) => item.stripe.invoiceId === provider.id);
  if (!payment && checkoutPaymentId) {
    const pending = payments[checkoutPaymentId];
    if (pending && pending.stripe.invoiceId === null && pending.kind === 'recurring') payment = pending;
  }
  if (!payment) {
    if (provider.status !== 'paid' && !provider.attempted) return [];
    payment = {
      id: `pay_${provider.id}`,
      userId: link.userId,
      planId: link.planId,
      kind: 'recurring',
      amountMinor: provider.amountDue,
      currency: provider.currency.toUpperCase(),
      status: 'pending',
      stripe: {
        customerId: provider.customerId,
        checkoutSessionId: null,
        paymentIntentId: null,
        invoiceId: null,
        subscriptionId: provider.subscriptionId,
      },
      subscriptionId: link.subscriptionId,
      grantedSeconds: 0,
      invoiceNumber: null,
      failureMessage: null,
      createdAt: now,
      updatedAt: now,
    };
    payments[payment.id] = payment;
  }
  payment.stripe.invoiceId = provider.id;
  payment.stripe.subscriptionId = provider.subscriptionId;
  payment.stripe.customerId = provider.customerId ?? payment.stripe.customerId;
  payment.stripe.paymentIntentId = provider.paymentIntentId ?? payment.stripe.paymentIntentId;
  payment.subscriptionId = link.subscriptionId;
  payment.amountMinor = provider.amountDue;
  if (provider.status === 'paid' && payment.status !== 'paid' && payment.status !== 'refunded') {
    payment.status = 'paid';
    payment.failureMessage = null;
    payment.grantedSeconds = provider.periodSeconds;
    payment.updatedAt = now;
    issueInvoiceIn(db, payment, now);
    const sub = db.subscriptions[link.subscriptionId];
    if (sub && (sub.bytesUsed > 0 || sub.topUpBytes !== undefined)) {
      sub.bytesUsed = 0;
      // Top-ups were data for the period just paid for.
      if (sub.topUpBytes !== undefined) delete sub.topUpBytes;
      sub.usagePeriodStartedAt = now;
      sub.updatedAt = now;
      return [sub.id];
    }
  } else if (provider.status === 'open' && provider.attempted && payment.status === 'pending') {
    payment.status = 'failed';
    payment.failureMessage = provider.failureMessage ?? 'The renewal payment failed';
    payment.updatedAt = now;
  }
  return [];
}

/** A refunded charge takes back the time it bought; a recurring plan ends now. */
export function refundIn(db: Db, now: number, payment: Payment): string[] {
  if (payment.status !== 'paid') return [];
  payment.status = 'refunded';
  payment.updatedAt = now;
  if (payment.invoiceNumber) {
    const invoice = db.payments.invoices[payment.invoiceNumber];
    if (invoice) {
      invoice.status = 'refunded';
      rollRefundIn(db.reports, invoice, payment.planId, db.settings.timeZone);
    }
  }
  const sub = payment.subscriptionId ? db.subscriptions[payment.subscriptionId] : undefined;
  if (!sub) return [];
  if (payment.kind === 'recurring') {
    sub.status = 'cancelled';
    sub.endsAt = now;
  } else if (payment.grantedBytes) {
    // A refunded top-up takes back its data; the subscription it topped up runs on.
    sub.topUpBytes = Math.max(0, (sub.topUpBytes ?? 0) - payment.grantedBytes);
  } else {
    const endsAt = (sub.endsAt ?? now) - payment.grantedSeconds * 1000;
    if (endsAt <= now) {
      sub.status = 'cancelled';
      sub.endsAt = now;
    } else {
      sub.endsAt = endsAt;
    }
  }
  sub.updatedAt = now;
  return [sub.id];
}

/** Past-due subscriptions whose grace has run out become suspended. */
export function sweepGraceIn(db: Db, now: number, graceMs: number): string[] {
  const changed: string[] = [];
  for (const link of Object.values(db.payments.recurring)) {
    if (link.pastDueSince === null || now - link.pastDueSince < graceMs) continue;
    const sub = db.subscriptions[link.subscriptionId];
    if (!sub || sub.status !== 'past_due') continue;
    sub.status = 'suspended';
    sub.updatedAt = now;
    changed.push(sub.id);
  }
  return changed;
}
