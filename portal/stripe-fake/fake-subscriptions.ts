import type { FormObject, FormValue } from './form-params.js';
import { cardOutcome } from './fake-cards.js';
import type { FakeCatalog } from './fake-catalog.js';
import {
  FakeStripeError,
  booleanParam,
  integerParam,
  metadataParam,
  newId,
  optionalString,
  required,
  type FakeLedger,
  type Metadata,
  type StripeObject,
} from './fake-ledger.js';
import type { FakeCharges } from './fake-charges.js';

export interface LineItem {
  price: string;
  quantity: number;
}

const DAY = 86_400;
/** Renewal retries after a failed charge: days after the previous attempt. */
const RETRY_DAYS = [1, 2, 2];

function addInterval(seconds: number, interval: string, count: number): number {
  if (interval === 'day') return seconds + count * DAY;
  if (interval === 'week') return seconds + count * 7 * DAY;
  const date = new Date(seconds * 1000);
  if (interval === 'month') date.setUTCMonth(date.getUTCMonth() + count);
  else date.setUTCFullYear(date.getUTCFullYear() + count);
  return Math.floor(date.getTime() / 1000);
}

export function lineItemsParam(value: FormValue | undefined): LineItem[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new FakeStripeError(
      400,
      'invalid_request_error',
      'parameter_missing',
      'Missing required param: line_items.',
      'line_items',
    );
  }
  return value.map((item, index) => {
    if (typeof item !== 'object' || Array.isArray(item)) {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'parameter_invalid',
        `Invalid line_items[${index}]`,
        'line_items',
      );
    }
    return { price: required(item, 'price'), quantity: integerParam(item, 'quantity', 1) };
  });
}

/** Checkout, charges, subscriptions, invoices and refunds, on the billing clock. */
/** Subscriptions, their invoices and the test clock that renews them. */
export class FakeSubscriptions {
  readonly #ledger: FakeLedger;
  readonly #catalog: FakeCatalog;
  readonly #charges: FakeCharges;

  constructor(ledger: FakeLedger, catalog: FakeCatalog, charges: FakeCharges) {
    this.#ledger = ledger;
    this.#catalog = catalog;
    this.#charges = charges;
  }

  createSubscription(params: FormObject): StripeObject {
    const customerId = required(params, 'customer');
    this.#ledger.get('customer', customerId);
    const items = lineItemsParam(params.items);
    for (const item of items) {
      if (this.#ledger.get('price', item.price).type !== 'recurring') {
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          'parameter_invalid',
          `The price ${item.price} is not recurring.`,
          'items',
        );
      }
    }
    const pmId = optionalString(params, 'default_payment_method') ?? this.#catalog.defaultPaymentMethodOf(customerId);
    const number = pmId ? this.#catalog.cardNumberOf(pmId) : null;
    if (!number) {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'resource_missing',
        'This customer has no attached payment source or default payment method.',
      );
    }
    const outcome = cardOutcome(number);
    if (!outcome.ok) throw new FakeStripeError(402, 'card_error', outcome.code, outcome.message);
    return this.start(customerId, items, metadataParam(params.metadata)).subscription;
  }

  start(
    customerId: string,
    items: LineItem[],
    metadata: Metadata,
  ): { subscription: StripeObject; invoice: StripeObject } {
    const now = this.#ledger.nowSeconds();
    const id = newId('sub');
    const subscriptionItems = items.map((item) => {
      const price = this.#ledger.get('price', item.price);
      const recurring = price.recurring as { interval: string; interval_count: number };
      return {
        id: newId('si'),
        object: 'subscription_item',
        created: now,
        subscription: id,
        price: structuredClone(price),
        quantity: item.quantity,
        current_period_start: now,
        current_period_end: addInterval(now, recurring.interval, recurring.interval_count),
      };
    });
    const subscription = this.#ledger.put('subscription', {
      id,
      object: 'subscription',
      created: now,
      start_date: now,
      billing_cycle_anchor: now,
      customer: customerId,
      currency: subscriptionItems[0]!.price.currency,
      status: 'incomplete',
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      ended_at: null,
      default_payment_method: null,
      latest_invoice: null,
      metadata,
      items: {
        object: 'list',
        url: `/v1/subscription_items?subscription=${id}`,
        has_more: false,
        data: subscriptionItems,
      },
      livemode: false,
    });
    const invoice = this.#createInvoice(subscription, 'subscription_create');
    const paid = this.#payInvoice(invoice, subscription);
    subscription.status = paid ? 'active' : 'incomplete';
    this.#ledger.emit('customer.subscription.created', subscription);
    return { subscription, invoice };
  }

  updateSubscription(id: string, params: FormObject): StripeObject {
    const subscription = this.#ledger.get('subscription', id);
    if (subscription.status === 'canceled') {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'resource_missing',
        'A canceled subscription can only update its cancellation_details and metadata.',
      );
    }
    const previous: Record<string, unknown> = {};
    const cancelAtPeriodEnd = booleanParam(params, 'cancel_at_period_end');
    if (cancelAtPeriodEnd !== null && cancelAtPeriodEnd !== subscription.cancel_at_period_end) {
      previous.cancel_at_period_end = subscription.cancel_at_period_end;
      previous.cancel_at = subscription.cancel_at;
      subscription.cancel_at_period_end = cancelAtPeriodEnd;
      subscription.cancel_at = cancelAtPeriodEnd ? this.#periodEnd(subscription) : null;
      subscription.canceled_at = cancelAtPeriodEnd ? this.#ledger.nowSeconds() : null;
    }
    if (params.metadata !== undefined) {
      previous.metadata = subscription.metadata;
      subscription.metadata = { ...(subscription.metadata as object), ...metadataParam(params.metadata) };
    }
    this.#ledger.emit('customer.subscription.updated', subscription, previous);
    return subscription;
  }

  cancelSubscription(id: string): StripeObject {
    const subscription = this.#ledger.get('subscription', id);
    if (subscription.status === 'canceled') return subscription;
    this.#end(subscription);
    return subscription;
  }

  #end(subscription: StripeObject): void {
    const now = this.#ledger.nowSeconds();
    subscription.status = 'canceled';
    subscription.ended_at = now;
    subscription.canceled_at = (subscription.canceled_at as number | null) ?? now;
    this.#ledger.emit('customer.subscription.deleted', subscription);
  }

  #items(
    subscription: StripeObject,
  ): Array<{ price: StripeObject; quantity: number; current_period_start: number; current_period_end: number }> {
    return (
      subscription.items as {
        data: Array<{
          price: StripeObject;
          quantity: number;
          current_period_start: number;
          current_period_end: number;
        }>;
      }
    ).data;
  }

  #periodEnd(subscription: StripeObject): number {
    return Math.min(...this.#items(subscription).map((item) => item.current_period_end));
  }

  #createInvoice(subscription: StripeObject, reason: 'subscription_create' | 'subscription_cycle'): StripeObject {
    const items = this.#items(subscription);
    const total = items.reduce((sum, item) => sum + (item.price.unit_amount as number) * item.quantity, 0);
    const first = items[0]!;
    const invoice = this.#ledger.put('invoice', {
      id: newId('in'),
      object: 'invoice',
      created: this.#ledger.nowSeconds(),
      customer: subscription.customer,
      currency: subscription.currency,
      billing_reason: reason,
      collection_method: 'charge_automatically',
      status: 'open',
      amount_due: total,
      amount_paid: 0,
      amount_remaining: total,
      subtotal: total,
      total,
      attempt_count: 0,
      attempted: false,
      next_payment_attempt: null,
      number: null,
      period_start: first.current_period_start,
      period_end: first.current_period_end,
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { subscription: subscription.id, metadata: structuredClone(subscription.metadata) },
      },
      lines: {
        object: 'list',
        has_more: false,
        url: '/v1/invoices/lines',
        data: items.map((item) => ({
          id: newId('il'),
          object: 'line_item',
          amount: (item.price.unit_amount as number) * item.quantity,
          currency: item.price.currency,
          quantity: item.quantity,
          period: { start: item.current_period_start, end: item.current_period_end },
          pricing: { type: 'price_details', price_details: { price: item.price.id, product: item.price.product } },
        })),
      },
      payments: { object: 'list', has_more: false, url: '/v1/invoice_payments', data: [] },
      status_transitions: { finalized_at: this.#ledger.nowSeconds(), paid_at: null },
      livemode: false,
    });
    subscription.latest_invoice = invoice.id;
    this.#ledger.emit('invoice.created', invoice);
    this.#ledger.emit('invoice.finalized', invoice);
    return invoice;
  }

  /** Charges the customer's default card for an open invoice; true when paid. */
  #payInvoice(invoice: StripeObject, subscription: StripeObject): boolean {
    const customerId = subscription.customer as string;
    const pmId =
      (subscription.default_payment_method as string | null) ?? this.#catalog.defaultPaymentMethodOf(customerId);
    const number = (pmId && this.#catalog.cardNumberOf(pmId)) ?? '';
    const intent = this.#charges.newIntent(
      invoice.amount_due as number,
      invoice.currency as string,
      customerId,
      structuredClone(subscription.metadata as Metadata),
    );
    const outcome = this.#charges.attempt(intent, number);
    invoice.attempted = true;
    invoice.attempt_count = (invoice.attempt_count as number) + 1;
    (invoice.payments as { data: unknown[] }).data.push({
      id: newId('inpay'),
      object: 'invoice_payment',
      created: this.#ledger.nowSeconds(),
      invoice: invoice.id,
      is_default: true,
      amount_requested: invoice.amount_due,
      amount_paid: outcome.ok ? invoice.amount_due : null,
      currency: invoice.currency,
      payment: { type: 'payment_intent', payment_intent: intent.id },
      status: outcome.ok ? 'paid' : 'open',
      status_transitions: { paid_at: outcome.ok ? this.#ledger.nowSeconds() : null, canceled_at: null },
    });
    if (outcome.ok) {
      invoice.status = 'paid';
      invoice.amount_paid = invoice.amount_due;
      invoice.amount_remaining = 0;
      invoice.next_payment_attempt = null;
      (invoice.status_transitions as { paid_at: number | null }).paid_at = this.#ledger.nowSeconds();
      this.#ledger.emit('invoice.paid', invoice);
      this.#ledger.emit('invoice.payment_succeeded', invoice);
      return true;
    }
    const retryIn = RETRY_DAYS[(invoice.attempt_count as number) - 1];
    invoice.next_payment_attempt = retryIn === undefined ? null : this.#ledger.nowSeconds() + retryIn * DAY;
    this.#ledger.emit('invoice.payment_failed', invoice);
    return false;
  }

  // ---- the test clock ------------------------------------------------------

  /** Moves billing time forward, renewing and retrying whatever falls due on the way, in order. */
  advance(seconds: number): void {
    const target = this.#ledger.nowMs() + seconds * 1000;
    for (let guard = 0; guard < 100_000; guard += 1) {
      const due = this.#nextDue(Math.floor(target / 1000));
      if (!due) break;
      this.#ledger.pin(due.at * 1000);
      due.run();
    }
    this.#ledger.pin(null);
    this.#ledger.shift(seconds * 1000);
  }

  #nextDue(limit: number): { at: number; run: () => void } | null {
    let best: { at: number; run: () => void } | null = null;
    for (const subscription of this.#ledger.collection('subscription').values()) {
      if (subscription.status !== 'active' && subscription.status !== 'past_due') continue;
      const end = this.#periodEnd(subscription);
      if (end <= limit && (!best || end < best.at)) best = { at: end, run: () => this.#cycle(subscription) };
      const openInvoice = subscription.latest_invoice
        ? this.#ledger.get('invoice', subscription.latest_invoice as string)
        : null;
      const retryAt = openInvoice?.status === 'open' ? (openInvoice.next_payment_attempt as number | null) : null;
      if (openInvoice && retryAt !== null && retryAt <= limit && (!best || retryAt < best.at)) {
        best = { at: retryAt, run: () => this.#retry(subscription, openInvoice) };
      }
    }
    return best;
  }

  #cycle(subscription: StripeObject): void {
    if (subscription.cancel_at_period_end) {
      this.#end(subscription);
      return;
    }
    const items = this.#items(subscription);
    const previous = {
      items: structuredClone(subscription.items),
      status: subscription.status,
      latest_invoice: subscription.latest_invoice,
    };
    for (const item of items) {
      const recurring = item.price.recurring as { interval: string; interval_count: number };
      item.current_period_start = item.current_period_end;
      item.current_period_end = addInterval(item.current_period_end, recurring.interval, recurring.interval_count);
    }
    const invoice = this.#createInvoice(subscription, 'subscription_cycle');
    const paid = this.#payInvoice(invoice, subscription);
    subscription.status = paid ? 'active' : 'past_due';
    this.#ledger.emit('customer.subscription.updated', subscription, previous);
  }

  #retry(subscription: StripeObject, invoice: StripeObject): void {
    const paid = this.#payInvoice(invoice, subscription);
    if (paid) {
      const previous = { status: subscription.status };
      subscription.status = 'active';
      this.#ledger.emit('customer.subscription.updated', subscription, previous);
    } else if (invoice.next_payment_attempt === null) {
      this.#end(subscription);
    }
  }
}
