import type Stripe from 'stripe';
import type { Clock } from '../../shared/clock.js';
import { Leases, type ExclusiveRunOptions } from '../leases/leases.js';
import type { Logger } from '../../shared/logger.js';
import type { Store } from '../store/store.js';
import { auditIn, type Actor } from '../accounts/audit.js';
import {
  failOneOffIn,
  markEventProcessedIn,
  recordRecurringInvoiceIn,
  refundIn,
  settleOneOffIn,
  syncRecurringIn,
  type ProviderInvoice,
  type ProviderSubscription,
} from './entitlement-effects.js';
import type { Payment } from './model.js';

export const HANDLED_EVENT_TYPES = new Set([
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'payment_intent.payment_failed',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'charge.refunded',
]);

export type ApplyOutcome = 'applied' | 'duplicate' | 'ignored';

/** One applier at a time among every appliance on the store. */
export const APPLIER_LEASE = 'payments:event-applier';

/**
 * Renewed while an event is applied; a holder that dies mid-event blocks the others for at most
 * `ttlMs`. A waiter gives up before a provider's webhook timeout, so the provider retries.
 */
const APPLIER_LEASE_OPTIONS: ExclusiveRunOptions = { ttlMs: 15_000, waitMs: 20_000, pollMs: 50 };

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

export function toProviderSubscription(sub: Stripe.Subscription): ProviderSubscription {
  const items = sub.items.data;
  const periodEnd = Math.min(...items.map((item) => item.current_period_end));
  const periodStart = Math.min(...items.map((item) => item.current_period_start));
  return {
    id: sub.id,
    status: sub.status,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    periodStartMs: periodStart * 1000,
    periodEndMs: periodEnd * 1000,
    endedAtMs: sub.ended_at ? sub.ended_at * 1000 : null,
    customerId: idOf(sub.customer) ?? '',
    metadata: { ...(sub.metadata ?? {}) },
  };
}

function subscriptionIdOfInvoice(invoice: Stripe.Invoice): string | null {
  return idOf(invoice.parent?.subscription_details?.subscription ?? null);
}

function paymentIntentIdOfInvoice(invoice: Stripe.Invoice): string | null {
  const payments = invoice.payments?.data ?? [];
  const paid = payments.find((item) => item.status === 'paid') ?? payments[payments.length - 1];
  return idOf(paid?.payment.payment_intent ?? null);
}

/**
 * Applies provider events to the store. Every event is handled by re-reading
 * the objects it names from the API, so a late or out-of-order delivery applies
 * the current truth, and events are applied one at a time so two re-reads
 * cannot land in the wrong order — one at a time across every appliance on the
 * store, through a lease kept in the store, since a webhook and a recovery poll
 * may reach two appliances at once.
 */
export class EventApplier {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #stripe: Stripe;
  readonly #logger: Logger;
  readonly #onChanged: (subscriptionIds: string[]) => void;
  readonly #leases: Leases;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: {
    store: Store;
    clock: Clock;
    stripe: Stripe;
    logger: Logger;
    onChanged: (subscriptionIds: string[]) => void;
    /** The appliance's leases; a private set (own holder id) when not given. */
    leases?: Leases;
  }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#stripe = deps.stripe;
    this.#logger = deps.logger;
    this.#onChanged = deps.onChanged;
    this.#leases = deps.leases ?? new Leases({ store: deps.store, clock: deps.clock });
  }

  /** Runs `task` after every earlier one has finished, here and on every other appliance on the store. */
  serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#leases.runExclusive(APPLIER_LEASE, APPLIER_LEASE_OPTIONS, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every task handed to `serialize` so far has finished (a clean stop). */
  async drain(): Promise<void> {
    await this.#queue;
  }

  isProcessed(eventId: string): boolean {
    return this.#store.db.payments.processedEvents.recentIds.includes(eventId);
  }

  apply(event: Stripe.Event, via: 'webhook' | 'recovery'): Promise<ApplyOutcome> {
    return this.serialize(async () => {
      if (!HANDLED_EVENT_TYPES.has(event.type)) return 'ignored';
      if (this.isProcessed(event.id)) return 'duplicate';
      await this.#store
        .history('payment-events')
        .append({ receivedAt: this.#clock.now(), via, id: event.id, type: event.type, event });
      const observedAt = event.created * 1000;
      const object = event.data.object as { id: string };
      const changed = await this.#dispatch(event.type, object.id, observedAt, event.id);
      this.#logger.info({ eventId: event.id, type: event.type, via, changed: changed.length }, 'payment event applied');
      if (changed.length > 0) this.#onChanged(changed);
      return 'applied';
    });
  }

  async #dispatch(type: string, objectId: string, observedAt: number, eventId: string): Promise<string[]> {
    switch (type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
        return this.#applySession(objectId, observedAt, eventId);
      case 'payment_intent.payment_failed':
        return this.#applyFailedIntent(objectId, eventId);
      case 'invoice.paid':
      case 'invoice.payment_succeeded':
      case 'invoice.payment_failed':
        return this.#applyInvoice(objectId, observedAt, eventId);
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted':
        return this.#applySubscription(objectId, observedAt, eventId);
      case 'charge.refunded':
        return this.#applyRefund(objectId, eventId);
      default:
        return [];
    }
  }

  /** The checkout return page calls this so the guest is online before the webhook arrives. */
  confirmCheckout(sessionId: string): Promise<string[]> {
    return this.serialize(async () => {
      const changed = await this.#applySession(sessionId, this.#clock.now(), null);
      if (changed.length > 0) this.#onChanged(changed);
      return changed;
    });
  }

  /** After our own API call changed a provider subscription (cancel at period end). */
  refreshSubscription(stripeSubscriptionId: string): Promise<string[]> {
    return this.serialize(async () => {
      const changed = await this.#applySubscription(stripeSubscriptionId, this.#clock.now(), null);
      if (changed.length > 0) this.#onChanged(changed);
      return changed;
    });
  }

  async #mark(eventId: string | null): Promise<string[]> {
    if (eventId) await this.#store.update((db) => markEventProcessedIn(db, eventId));
    return [];
  }

  #paymentOf(paymentId: string | null | undefined): Payment | null {
    return paymentId ? (this.#store.db.payments.payments[paymentId] ?? null) : null;
  }

  async #applySession(sessionId: string, observedAt: number, eventId: string | null): Promise<string[]> {
    const session = await this.#stripe.checkout.sessions.retrieve(sessionId);
    const paymentId = session.metadata?.paymentId ?? session.client_reference_id;
    const known = this.#paymentOf(paymentId);
    const paid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required';
    if (!known || !paid || !paymentId) return this.#mark(eventId);
    if (session.mode === 'subscription') {
      const stripeSubscriptionId = idOf(session.subscription);
      const invoiceId = idOf(session.invoice);
      if (!stripeSubscriptionId) return this.#mark(eventId);
      const provider = toProviderSubscription(await this.#stripe.subscriptions.retrieve(stripeSubscriptionId));
      const invoice = invoiceId ? await this.#readInvoice(invoiceId) : null;
      return this.#store.update((db) => {
        const now = this.#clock.now();
        const payment = db.payments.payments[paymentId];
        if (payment) {
          payment.stripe.checkoutSessionId = session.id;
          payment.stripe.customerId = idOf(session.customer) ?? payment.stripe.customerId;
        }
        const changed = syncRecurringIn(db, now, provider, observedAt);
        const renewed = invoice ? recordRecurringInvoiceIn(db, now, invoice, paymentId) : [];
        if (eventId) markEventProcessedIn(db, eventId);
        return [...new Set([...changed, ...renewed])];
      });
    }
    const paymentIntentId = idOf(session.payment_intent);
    return this.#store.update((db) => {
      const payment = db.payments.payments[paymentId];
      const changed = payment
        ? settleOneOffIn(db, this.#clock.now(), payment, { paymentIntentId, customerId: idOf(session.customer) })
        : [];
      if (eventId) markEventProcessedIn(db, eventId);
      return changed;
    });
  }

  async #applyFailedIntent(intentId: string, eventId: string): Promise<string[]> {
    const intent = await this.#stripe.paymentIntents.retrieve(intentId);
    const paymentId = intent.metadata?.paymentId;
    const known = this.#paymentOf(paymentId);
    // A subscription's first payment declined at checkout fails its payment too; renewals fail by invoice.
    const firstPayment = known?.kind === 'one-off' || (known !== null && known.stripe.subscriptionId === null);
    if (!known || !firstPayment || intent.status === 'succeeded') return this.#mark(eventId);
    return this.#store.update((db) => {
      const payment = paymentId ? db.payments.payments[paymentId] : undefined;
      if (payment) {
        payment.stripe.paymentIntentId = intent.id;
        failOneOffIn(db, this.#clock.now(), payment, intent.last_payment_error?.message ?? null);
      }
      markEventProcessedIn(db, eventId);
      return [];
    });
  }

  async #readInvoice(invoiceId: string): Promise<ProviderInvoice | null> {
    // Real Stripe includes an invoice's payments only when asked.
    const invoice = await this.#stripe.invoices.retrieve(invoiceId, { expand: ['payments'] });
    const subscriptionId = subscriptionIdOfInvoice(invoice);
    if (!subscriptionId) return null;
    const paymentIntentId = paymentIntentIdOfInvoice(invoice);
    let failureMessage: string | null = null;
    if (invoice.status === 'open' && paymentIntentId) {
      const intent = await this.#stripe.paymentIntents.retrieve(paymentIntentId);
      failureMessage = intent.last_payment_error?.message ?? null;
    }
    return {
      id: invoice.id ?? invoiceId,
      status: invoice.status ?? 'draft',
      amountDue: invoice.amount_due,
      currency: invoice.currency,
      attempted: invoice.attempted,
      paymentIntentId,
      customerId: idOf(invoice.customer),
      subscriptionId,
      periodSeconds: Math.max(0, invoice.period_end - invoice.period_start),
      failureMessage,
    };
  }

  async #applyInvoice(invoiceId: string, observedAt: number, eventId: string): Promise<string[]> {
    const invoice = await this.#readInvoice(invoiceId);
    if (!invoice) return this.#mark(eventId);
    const provider = toProviderSubscription(await this.#stripe.subscriptions.retrieve(invoice.subscriptionId));
    return this.#store.update((db) => {
      const now = this.#clock.now();
      const changed = syncRecurringIn(db, now, provider, observedAt);
      const renewed = recordRecurringInvoiceIn(db, now, invoice, provider.metadata.paymentId ?? null);
      markEventProcessedIn(db, eventId);
      return [...new Set([...changed, ...renewed])];
    });
  }

  async #applySubscription(
    stripeSubscriptionId: string,
    observedAt: number,
    eventId: string | null,
  ): Promise<string[]> {
    const provider = toProviderSubscription(await this.#stripe.subscriptions.retrieve(stripeSubscriptionId));
    return this.#store.update((db) => {
      const changed = syncRecurringIn(db, this.#clock.now(), provider, observedAt);
      if (eventId) markEventProcessedIn(db, eventId);
      return changed;
    });
  }

  /**
   * After our own refund call: revoke now rather than waiting for `charge.refunded`. `refundedBy`
   * is the staff member who asked; their audit entry goes with the payment's change.
   */
  refreshCharge(chargeId: string, refundedBy: Actor | null = null): Promise<string[]> {
    return this.serialize(async () => {
      const changed = await this.#applyRefund(chargeId, null, refundedBy);
      if (changed.length > 0) this.#onChanged(changed);
      return changed;
    });
  }

  async #applyRefund(chargeId: string, eventId: string | null, refundedBy: Actor | null = null): Promise<string[]> {
    const charge = await this.#stripe.charges.retrieve(chargeId);
    const intentId = idOf(charge.payment_intent);
    const fully = charge.refunded || charge.amount_refunded >= charge.amount;
    return this.#store.update((db, histories) => {
      const payment = intentId
        ? Object.values(db.payments.payments).find((item) => item.stripe.paymentIntentId === intentId)
        : undefined;
      const now = this.#clock.now();
      const changed = payment && fully ? refundIn(db, now, payment) : [];
      if (payment && refundedBy) {
        auditIn(histories, now, refundedBy, {
          action: 'payment.refunded',
          target: payment.userId,
          // The refund command starts only from a paid payment; `charge.refunded` may have landed first.
          before: { status: 'paid' },
          after: { status: payment.status },
          details: { paymentId: payment.id, amountMinor: payment.amountMinor, currency: payment.currency },
        });
      }
      if (eventId) markEventProcessedIn(db, eventId);
      return changed;
    });
  }
}
