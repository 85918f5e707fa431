import type { FormObject } from './form-params.js';
import { cardOutcome } from './fake-cards.js';
import type { FakeCatalog } from './fake-catalog.js';
import {
  FakeStripeError,
  metadataParam,
  newId,
  optionalString,
  required,
  type FakeLedger,
  type Metadata,
  type StripeObject,
} from './fake-ledger.js';
import type { FakeCharges } from './fake-charges.js';
import { lineItemsParam, type LineItem, type FakeSubscriptions } from './fake-subscriptions.js';

export interface SessionExtras {
  lineItems: LineItem[];
  subscriptionMetadata: Metadata;
  paymentIntentMetadata: Metadata;
}

const DAY = 86_400;

function nested(params: FormObject, name: string): FormObject {
  const value = params[name];
  return typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** Checkout sessions and what the hosted page does when the guest pays. */
export class FakeCheckout {
  readonly #ledger: FakeLedger;
  readonly #catalog: FakeCatalog;
  readonly #charges: FakeCharges;
  readonly #subscriptions: FakeSubscriptions;
  readonly #baseUrl: () => string;
  readonly #sessionExtras = new Map<string, SessionExtras>();

  constructor(
    ledger: FakeLedger,
    catalog: FakeCatalog,
    charges: FakeCharges,
    subscriptions: FakeSubscriptions,
    baseUrl: () => string,
  ) {
    this.#ledger = ledger;
    this.#catalog = catalog;
    this.#charges = charges;
    this.#subscriptions = subscriptions;
    this.#baseUrl = baseUrl;
  }

  /** What a session keeps beside its object (line items, metadata to copy), for the state file. */
  exportExtras(): Array<[string, SessionExtras]> {
    return [...this.#sessionExtras];
  }

  importExtras(extras: ReadonlyArray<[string, SessionExtras]>): void {
    for (const [id, value] of extras) this.#sessionExtras.set(id, value);
  }

  createCheckoutSession(params: FormObject): StripeObject {
    const mode = required(params, 'mode');
    if (mode !== 'payment' && mode !== 'subscription') {
      throw new FakeStripeError(400, 'invalid_request_error', 'parameter_invalid', `Invalid mode: ${mode}`, 'mode');
    }
    const lineItems = lineItemsParam(params.line_items);
    const prices = lineItems.map((item) => this.#ledger.get('price', item.price));
    for (const price of prices) {
      if (!price.active)
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          'price_inactive',
          `The price ${price.id} is not active.`,
        );
      if ((price.type === 'recurring') !== (mode === 'subscription')) {
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          'parameter_invalid',
          mode === 'payment'
            ? `You specified \`payment\` mode but passed a recurring price (${price.id}).`
            : `You must provide at least one recurring price in \`subscription\` mode (${price.id}).`,
          'line_items',
        );
      }
    }
    const currencies = new Set(prices.map((price) => price.currency));
    if (currencies.size !== 1) {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'parameter_invalid',
        'All prices must share one currency.',
        'line_items',
      );
    }
    const customer = optionalString(params, 'customer');
    if (customer) this.#ledger.get('customer', customer);
    const amount = lineItems.reduce(
      (sum, item, index) => sum + (prices[index]!.unit_amount as number) * item.quantity,
      0,
    );
    const id = newId('cs_test');
    const created = this.#ledger.nowSeconds();
    const session = this.#ledger.put('checkout.session', {
      id,
      object: 'checkout.session',
      created,
      expires_at: created + DAY,
      mode,
      status: 'open',
      payment_status: 'unpaid',
      customer,
      customer_email: optionalString(params, 'customer_email'),
      client_reference_id: optionalString(params, 'client_reference_id'),
      metadata: metadataParam(params.metadata),
      success_url: required(params, 'success_url'),
      cancel_url: optionalString(params, 'cancel_url'),
      url: `${this.#baseUrl()}/c/pay/${id}`,
      amount_subtotal: amount,
      amount_total: amount,
      currency: [...currencies][0],
      payment_intent: null,
      subscription: null,
      invoice: null,
      livemode: false,
    });
    this.#sessionExtras.set(id, {
      lineItems,
      subscriptionMetadata: metadataParam(nested(params, 'subscription_data').metadata),
      paymentIntentMetadata: metadataParam(nested(params, 'payment_intent_data').metadata),
    });
    return session;
  }

  sessionLineItems(sessionId: string): StripeObject[] {
    const extras = this.#sessionExtras.get(sessionId);
    if (!extras) return [];
    return extras.lineItems.map((item) => {
      const price = this.#ledger.get('price', item.price);
      const product = this.#ledger.get('product', price.product as string);
      return {
        id: newId('li'),
        object: 'item',
        created: this.#ledger.nowSeconds(),
        description: product.name,
        price,
        quantity: item.quantity,
        amount_total: (price.unit_amount as number) * item.quantity,
        currency: price.currency,
      };
    });
  }

  expireCheckoutSession(id: string): StripeObject {
    const session = this.#ledger.get('checkout.session', id);
    if (session.status !== 'open') {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'checkout_session_not_open',
        'Only open sessions can be expired.',
      );
    }
    session.status = 'expired';
    this.#ledger.emit('checkout.session.expired', session);
    return session;
  }

  /** The hosted page's submit: charge the card, or say why not so the guest can retry. */
  payCheckout(
    id: string,
    cardNumber: string,
    email: string | null,
  ): { ok: true; redirect: string } | { ok: false; message: string } {
    const session = this.#ledger.get('checkout.session', id);
    const redirect = (session.success_url as string).replaceAll('{CHECKOUT_SESSION_ID}', id);
    if (session.status === 'complete') return { ok: true, redirect };
    if (session.status !== 'open' || (session.expires_at as number) <= this.#ledger.nowSeconds()) {
      return { ok: false, message: 'This checkout session has expired. Go back and start again.' };
    }
    const extras = this.#sessionExtras.get(id)!;
    if (email && !session.customer_email) session.customer_email = email;
    const customerId = (session.customer as string | null) ?? this.#catalog.createCustomer({ email: email ?? '' }).id;
    session.customer = customerId;
    if (session.mode === 'payment') {
      let intent = session.payment_intent ? this.#ledger.get('payment_intent', session.payment_intent as string) : null;
      if (!intent) {
        intent = this.#charges.newIntent(
          session.amount_total as number,
          session.currency as string,
          customerId,
          extras.paymentIntentMetadata,
        );
        session.payment_intent = intent.id;
      }
      const outcome = this.#charges.attempt(intent, cardNumber);
      if (!outcome.ok) return { ok: false, message: outcome.message };
      session.status = 'complete';
      session.payment_status = 'paid';
      this.#ledger.emit('checkout.session.completed', session);
      return { ok: true, redirect };
    }
    const outcome = cardOutcome(cardNumber);
    if (!outcome.ok) {
      // The first payment of the subscription was attempted and declined: that attempt is an event
      // the seller sees (its metadata names the seller's payment), though no subscription starts.
      const attempt = this.#charges.newIntent(
        session.amount_total as number,
        session.currency as string,
        customerId,
        extras.subscriptionMetadata,
      );
      this.#charges.attempt(attempt, cardNumber);
      return { ok: false, message: outcome.message };
    }
    const pm = this.#catalog.createCardMethod(cardNumber, customerId);
    this.#catalog.updateCustomer(customerId, { invoice_settings: { default_payment_method: pm.id } });
    const { subscription, invoice } = this.#subscriptions.start(
      customerId,
      extras.lineItems,
      extras.subscriptionMetadata,
    );
    session.subscription = subscription.id;
    session.invoice = invoice.id;
    session.status = 'complete';
    session.payment_status = 'paid';
    this.#ledger.emit('checkout.session.completed', session);
    return { ok: true, redirect };
  }
}
