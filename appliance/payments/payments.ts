import { SpanStatusCode } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Leases } from '../leases/leases.js';
import type { Logger } from '../../shared/logger.js';
import type { Scheduler } from '../scheduler.js';
import type { Store } from '../store/store.js';
import { auditIn, SYSTEM, type Actor } from '../accounts/audit.js';
import { sweepGraceIn } from './entitlement-effects.js';
import { assertTopUp } from '../subscriptions/top-up.js';
import { EventApplier, type ApplyOutcome } from './event-applier.js';
import { recoverMissedEvents, type RecoveryResult } from './event-recovery.js';
import { renderInvoiceHtml, renderInvoicePdf } from './invoice-render.js';
import type { Invoice, Payment } from './model.js';
import { ProviderCatalog } from './provider-catalog.js';
import { linksFrom, traceparentMetadata } from '../telemetry/trace-links.js';
import { tracer } from '../../shared/telemetry/tracing.js';

/** Seconds a webhook's signed timestamp may lag behind our clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface PaymentsDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'payments'>;
  stripe: Stripe;
  /** Called after a subscription's entitlement changed (wire to RADIUS CoA / disconnect). */
  onEntitlementChanged?: (subscriptionId: string) => void | Promise<void>;
  /** The appliance's leases: provider events are applied one at a time across every appliance. */
  leases?: Leases;
  /** Runs the missed-event poll as a job (one appliance polls); without it payments keep their own timer. */
  scheduler?: Pick<Scheduler, 'add'>;
}

export interface CheckoutStart {
  paymentId: string;
  sessionId: string;
  /** The provider's hosted checkout page: send the guest's browser here. */
  url: string;
}

export type Payments = ReturnType<typeof createPayments>;

/** The payment domain: checkout, provider events, invoices, grace periods. Knows nothing of HTTP. */
export function createPayments(deps: PaymentsDeps) {
  const { store, clock, stripe, config } = deps;
  const logger = deps.logger.child({ component: 'payments' });
  let onEntitlementChanged = deps.onEntitlementChanged;
  const notify = (subscriptionIds: string[]): void => {
    const hook = onEntitlementChanged;
    if (!hook) return;
    for (const id of new Set(subscriptionIds)) {
      Promise.resolve()
        .then(() => hook(id))
        .catch((err: unknown) => logger.warn({ err, subscriptionId: id }, 'entitlement change hook failed'));
    }
  };
  const catalog = new ProviderCatalog({ store, clock, stripe, logger });
  const applier = new EventApplier({
    store,
    clock,
    stripe,
    logger,
    onChanged: notify,
    ...(deps.leases ? { leases: deps.leases } : {}),
  });
  let pollTimer: NodeJS.Timeout | null = null;
  let polling = false;
  const pollMs = config.payments.eventPollSeconds * 1000;
  let recovering: Promise<RecoveryResult> | null = null;

  const recover = (): Promise<RecoveryResult> => {
    recovering ??= recoverMissedEvents({ store, clock, stripe, applier }).finally(() => {
      recovering = null;
    });
    return recovering;
  };

  const payment = (id: string): Payment => {
    const found = store.db.payments.payments[id];
    if (!found) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no payment ${id}`);
    return found;
  };

  const invoice = (number: string): Invoice => {
    const found = store.db.payments.invoices[number];
    if (!found) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no invoice ${number}`);
    return found;
  };

  const providerFailure = (err: unknown): TurnpikeError => {
    if (err instanceof TurnpikeError) return err;
    const stripeError = err as { type?: string; message?: string };
    if (stripeError.type === 'StripeCardError') return new TurnpikeError('TP_ERR_PAYMENT', stripeError.message);
    logger.error({ err }, 'payment provider call failed');
    return new TurnpikeError('TP_ERR_UNAVAILABLE', 'The payment provider cannot be reached; try again shortly');
  };

  return {
    set onEntitlementChanged(hook: ((subscriptionId: string) => void | Promise<void>) | undefined) {
      onEntitlementChanged = hook;
    },

    /** Creates a pending payment and the provider's hosted checkout for it. */
    async startCheckout(input: {
      userId: string;
      planId: string;
      successUrl: string;
      cancelUrl: string;
      /** A top-up: the guest's running subscription the plan's data is added to. */
      topUpOf?: string;
    }): Promise<CheckoutStart> {
      const plan = store.db.plans[input.planId];
      if (!plan || plan.archived || !plan.visible)
        throw new TurnpikeError('TP_ERR_NOT_FOUND', `no plan ${input.planId}`);
      if (plan.priceMinor <= 0) throw new TurnpikeError('TP_ERR_VALIDATION', 'this plan is free; nothing to pay');
      if (!store.db.users[input.userId]) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no user ${input.userId}`);
      if (input.topUpOf !== undefined) assertTopUp(store.db, input.userId, input.topUpOf, plan);
      try {
        const [customerId, priceId] = [await catalog.ensureCustomer(input.userId), await catalog.ensurePrice(plan)];
        const now = clock.now();
        const created: Payment = {
          id: `pay_${randomUUID()}`,
          userId: input.userId,
          planId: plan.id,
          kind: plan.recurring ? 'recurring' : 'one-off',
          amountMinor: plan.priceMinor,
          currency: plan.currency,
          status: 'pending',
          stripe: { customerId, checkoutSessionId: null, paymentIntentId: null, invoiceId: null, subscriptionId: null },
          subscriptionId: null,
          grantedSeconds: 0,
          ...(input.topUpOf !== undefined ? { topUpOf: input.topUpOf } : {}),
          invoiceNumber: null,
          failureMessage: null,
          createdAt: now,
          updatedAt: now,
        };
        await store.update((db) => {
          db.payments.payments[created.id] = created;
        });
        // traceparent: the webhook that completes this checkout links back to the guest's trace.
        const metadata = { paymentId: created.id, userId: input.userId, planId: plan.id, ...traceparentMetadata() };
        const separator = input.successUrl.includes('?') ? '&' : '?';
        const session = await stripe.checkout.sessions.create(
          {
            mode: plan.recurring ? 'subscription' : 'payment',
            customer: customerId,
            client_reference_id: created.id,
            line_items: [{ price: priceId, quantity: 1 }],
            metadata,
            ...(plan.recurring ? { subscription_data: { metadata } } : { payment_intent_data: { metadata } }),
            success_url: `${input.successUrl}${separator}session_id={CHECKOUT_SESSION_ID}`,
            cancel_url: input.cancelUrl,
          },
          { idempotencyKey: `turnpike-checkout-${created.id}` },
        );
        await store.update((db) => {
          const stored = db.payments.payments[created.id];
          if (stored) stored.stripe.checkoutSessionId = session.id;
        });
        if (!session.url)
          throw new TurnpikeError('TP_ERR_UNAVAILABLE', 'the payment provider returned no checkout page');
        return { paymentId: created.id, sessionId: session.id, url: session.url };
      } catch (err) {
        throw providerFailure(err);
      }
    },

    /** The guest came back from checkout: apply the session now rather than waiting for the webhook. */
    async confirmCheckout(sessionId: string, userId: string): Promise<Payment> {
      const found = Object.values(store.db.payments.payments).find(
        (item) => item.stripe.checkoutSessionId === sessionId,
      );
      if (!found || found.userId !== userId) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'no such checkout');
      try {
        await applier.confirmCheckout(sessionId);
      } catch (err) {
        throw providerFailure(err);
      }
      return payment(found.id);
    },

    /** Verifies the signature on the raw bytes, then applies the event once. */
    async handleWebhook(
      rawBody: Buffer | string,
      signature: string | undefined,
    ): Promise<{ eventId: string; outcome: ApplyOutcome }> {
      let event: Stripe.Event;
      try {
        if (!signature) throw new Error('no Stripe-Signature header');
        const now = clock.now();
        // The SDK only bounds the age; a timestamp far in the future is as suspect as a stale one.
        const signedAt = Number(/(?:^|,)t=(\d+)/.exec(signature)?.[1] ?? NaN);
        if (!(signedAt * 1000 <= now + WEBHOOK_TOLERANCE_SECONDS * 1000))
          throw new Error('timestamp missing or in the future');
        event = stripe.webhooks.constructEvent(
          rawBody,
          signature,
          config.payments.webhookSecret,
          WEBHOOK_TOLERANCE_SECONDS,
          undefined,
          now,
        );
      } catch (err) {
        logger.warn({ reason: (err as Error).message }, 'webhook rejected: bad signature');
        throw new TurnpikeError('TP_ERR_WEBHOOK_SIGNATURE');
      }
      const object = event.data.object as { metadata?: Record<string, string> | null };
      return tracer().startActiveSpan(
        `stripe ${event.type}`,
        { attributes: { 'stripe.event_type': event.type }, links: linksFrom(object.metadata?.traceparent) },
        async (span) => {
          try {
            const outcome = await applier.apply(event, 'webhook');
            span.setAttribute('stripe.outcome', outcome);
            return { eventId: event.id, outcome };
          } catch (err) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw providerFailure(err);
          } finally {
            span.end();
          }
        },
      );
    },

    recoverMissedEvents: recover,

    /** Past-due recurring plans whose grace (config graceDays) ran out become suspended. */
    async sweepGracePeriods(now: number): Promise<string[]> {
      const graceMs = config.payments.graceDays * 86_400_000;
      const due = Object.values(store.db.payments.recurring).some(
        (link) => link.pastDueSince !== null && now - link.pastDueSince >= graceMs,
      );
      if (!due) return [];
      const changed = await store.update((db) => sweepGraceIn(db, now, graceMs));
      notify(changed);
      return changed;
    },

    /** Ends a recurring plan at the end of the paid period (or takes that back). */
    async setCancelAtPeriodEnd(
      subscriptionId: string,
      cancel: boolean,
      actor: { userId: string; staff: boolean },
    ): Promise<void> {
      const link = Object.values(store.db.payments.recurring).find((item) => item.subscriptionId === subscriptionId);
      if (!link || (!actor.staff && link.userId !== actor.userId))
        throw new TurnpikeError('TP_ERR_NOT_FOUND', 'no such recurring plan');
      try {
        await stripe.subscriptions.update(link.stripeSubscriptionId, { cancel_at_period_end: cancel });
        await applier.refreshSubscription(link.stripeSubscriptionId);
      } catch (err) {
        throw providerFailure(err);
      }
    },

    /**
     * Staff refund: the provider refunds the charge; access is revoked when its event is applied,
     * and the actor's audit entry is written with that change.
     */
    async refund(paymentId: string, actor: Actor = SYSTEM): Promise<Payment> {
      const found = payment(paymentId);
      if (found.status !== 'paid' || !found.stripe.paymentIntentId) {
        throw new TurnpikeError(
          'TP_ERR_CONFLICT',
          `payment ${paymentId} is ${found.status}; only a paid payment can be refunded`,
        );
      }
      try {
        await stripe.refunds.create(
          { payment_intent: found.stripe.paymentIntentId },
          { idempotencyKey: `turnpike-refund-${paymentId}` },
        );
        if (found.kind === 'recurring' && found.stripe.subscriptionId) {
          const current = await stripe.subscriptions.retrieve(found.stripe.subscriptionId);
          if (current.status !== 'canceled') await stripe.subscriptions.cancel(found.stripe.subscriptionId);
        }
        const intent = await stripe.paymentIntents.retrieve(found.stripe.paymentIntentId);
        const chargeId = typeof intent.latest_charge === 'string' ? intent.latest_charge : intent.latest_charge?.id;
        if (chargeId) {
          await applier.refreshCharge(chargeId, actor);
        } else {
          // No charge to read back yet: the staff action is recorded now, the change comes with `charge.refunded`.
          await store.update((_db, histories) =>
            auditIn(histories, clock.now(), actor, {
              action: 'payment.refunded',
              target: found.userId,
              before: { status: found.status },
              after: { status: found.status },
              details: { paymentId, amountMinor: found.amountMinor, currency: found.currency },
            }),
          );
        }
      } catch (err) {
        throw providerFailure(err);
      }
      return payment(paymentId);
    },

    syncCatalog: () => catalog.syncAll(),

    listPayments(filter: { userId?: string } = {}): Payment[] {
      return Object.values(store.db.payments.payments)
        .filter((item) => !filter.userId || item.userId === filter.userId)
        .sort((a, b) => b.createdAt - a.createdAt);
    },

    getPayment: payment,

    listInvoices(filter: { userId?: string } = {}): Invoice[] {
      return Object.values(store.db.payments.invoices)
        .filter((item) => !filter.userId || item.userId === filter.userId)
        .sort((a, b) => (a.number < b.number ? 1 : -1));
    },

    getInvoice: invoice,
    invoiceHtml: (number: string): string => renderInvoiceHtml(invoice(number)),
    invoicePdf: (number: string): Promise<Buffer> => renderInvoicePdf(invoice(number)),

    /** Recovers missed events now, then polls every `eventPollSeconds`. */
    async start(): Promise<RecoveryResult | null> {
      let first: RecoveryResult | null = null;
      try {
        first = await recover();
        if (first.applied > 0) logger.info(first, 'recovered missed payment events');
      } catch (err) {
        logger.warn({ err }, 'payment event recovery failed; will retry');
      }
      if (deps.scheduler) {
        if (!polling) deps.scheduler.add({ name: 'recover payment events', everyMs: pollMs, run: recover });
        polling = true;
        return first;
      }
      pollTimer ??= setInterval(() => {
        recover().catch((err: unknown) => logger.warn({ err }, 'payment event recovery failed; will retry'));
      }, pollMs);
      pollTimer.unref();
      return first;
    },

    async stop(): Promise<void> {
      if (pollTimer) clearInterval(pollTimer);
      pollTimer = null;
      await recovering?.catch(() => undefined);
      await applier.drain();
    },
  };
}
