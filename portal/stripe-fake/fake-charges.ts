import type { FormObject } from './form-params.js';
import { cardOutcome, type CardOutcome } from './fake-cards.js';
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

/** Payment intents, their charge attempts and refunds. */
export class FakeCharges {
  readonly #ledger: FakeLedger;
  readonly #catalog: FakeCatalog;

  constructor(ledger: FakeLedger, catalog: FakeCatalog) {
    this.#ledger = ledger;
    this.#catalog = catalog;
  }

  createPaymentIntent(params: FormObject): StripeObject {
    const amount = integerParam(params, 'amount');
    const currency = required(params, 'currency').toLowerCase();
    const customer = optionalString(params, 'customer');
    if (customer) this.#ledger.get('customer', customer);
    const intent = this.newIntent(amount, currency, customer, metadataParam(params.metadata));
    const pmId = optionalString(params, 'payment_method');
    if (booleanParam(params, 'confirm') && pmId) {
      const number = this.#catalog.cardNumberOf(pmId);
      if (!number)
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          'resource_missing',
          `No such payment_method: '${pmId}'`,
        );
      const outcome = this.attempt(intent, number);
      if (!outcome.ok) throw new FakeStripeError(402, 'card_error', outcome.code, outcome.message);
    }
    return intent;
  }

  newIntent(amount: number, currency: string, customer: string | null, metadata: Metadata): StripeObject {
    return this.#ledger.put('payment_intent', {
      id: newId('pi'),
      object: 'payment_intent',
      created: this.#ledger.nowSeconds(),
      amount,
      amount_received: 0,
      currency,
      customer,
      metadata,
      status: 'requires_payment_method',
      latest_charge: null,
      last_payment_error: null,
      livemode: false,
    });
  }

  /** One charge attempt on an intent; emits what Stripe emits for it. */
  attempt(intent: StripeObject, cardNumber: string): CardOutcome {
    const outcome = cardOutcome(cardNumber);
    const charge = this.#ledger.put('charge', {
      id: newId('ch'),
      object: 'charge',
      created: this.#ledger.nowSeconds(),
      amount: intent.amount,
      amount_captured: outcome.ok ? intent.amount : 0,
      amount_refunded: 0,
      currency: intent.currency,
      customer: intent.customer,
      payment_intent: intent.id,
      metadata: intent.metadata,
      paid: outcome.ok,
      captured: outcome.ok,
      refunded: false,
      status: outcome.ok ? 'succeeded' : 'failed',
      failure_code: outcome.ok ? null : outcome.code,
      failure_message: outcome.ok ? null : outcome.message,
      payment_method_details: {
        type: 'card',
        card: { brand: outcome.ok ? outcome.brand : 'visa', last4: cardNumber.slice(-4) },
      },
      livemode: false,
    });
    intent.latest_charge = charge.id;
    if (outcome.ok) {
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
      intent.last_payment_error = null;
      this.#ledger.emit('charge.succeeded', charge);
      this.#ledger.emit('payment_intent.succeeded', intent);
    } else {
      intent.status = 'requires_payment_method';
      intent.last_payment_error = {
        type: 'card_error',
        code: outcome.code,
        decline_code: outcome.declineCode,
        message: outcome.message,
      };
      this.#ledger.emit('charge.failed', charge);
      this.#ledger.emit('payment_intent.payment_failed', intent);
    }
    return outcome;
  }

  createRefund(params: FormObject): StripeObject {
    const chargeId = optionalString(params, 'charge');
    const intentId = optionalString(params, 'payment_intent');
    let charge: StripeObject;
    if (chargeId) charge = this.#ledger.get('charge', chargeId);
    else if (intentId) {
      const intent = this.#ledger.get('payment_intent', intentId);
      if (intent.status !== 'succeeded' || !intent.latest_charge) {
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          'charge_not_refundable',
          `PaymentIntent ${intentId} has no successful charge.`,
        );
      }
      charge = this.#ledger.get('charge', intent.latest_charge as string);
    } else {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'parameter_missing',
        'Missing required param: charge or payment_intent.',
        'charge',
      );
    }
    const remaining = (charge.amount as number) - (charge.amount_refunded as number);
    if (charge.status !== 'succeeded' || remaining <= 0) {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'charge_already_refunded',
        `Charge ${charge.id} has already been refunded.`,
      );
    }
    const amount = integerParam(params, 'amount', remaining);
    if (amount <= 0 || amount > remaining) {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'amount_too_large',
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
        'amount',
      );
    }
    const refund = this.#ledger.put('refund', {
      id: newId('re'),
      object: 'refund',
      created: this.#ledger.nowSeconds(),
      amount,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      metadata: metadataParam(params.metadata),
      reason: optionalString(params, 'reason'),
      status: 'succeeded',
    });
    const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
    charge.amount_refunded = (charge.amount_refunded as number) + amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    this.#ledger.emit('refund.created', refund);
    this.#ledger.emit('charge.refunded', charge, previous);
    return refund;
  }
}
