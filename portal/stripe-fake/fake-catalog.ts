import type { FormObject } from './form-params.js';
import { MAGIC_PAYMENT_METHODS, cardOutcome, normalizeCardNumber } from './fake-cards.js';
import {
  FakeStripeError,
  booleanParam,
  integerParam,
  metadataParam,
  newId,
  optionalString,
  required,
  type FakeLedger,
  type StripeObject,
} from './fake-ledger.js';

/** Customers, products, prices and card payment methods. */
export class FakeCatalog {
  readonly #ledger: FakeLedger;
  /** Card numbers stay inside the fake; objects only show brand and last4. */
  readonly #cardNumbers = new Map<string, string>();

  constructor(ledger: FakeLedger) {
    this.#ledger = ledger;
  }

  /** Card numbers by payment method, for the state file (they never leave the fake otherwise). */
  exportCards(): Array<[string, string]> {
    return [...this.#cardNumbers];
  }

  importCards(cards: ReadonlyArray<[string, string]>): void {
    for (const [pmId, digits] of cards) this.#cardNumbers.set(pmId, digits);
  }

  createCustomer(params: FormObject): StripeObject {
    const customer = this.#ledger.put('customer', {
      id: newId('cus'),
      object: 'customer',
      created: this.#ledger.nowSeconds(),
      email: optionalString(params, 'email'),
      name: optionalString(params, 'name'),
      description: optionalString(params, 'description'),
      metadata: metadataParam(params.metadata),
      invoice_settings: { default_payment_method: null },
      livemode: false,
    });
    this.#ledger.emit('customer.created', customer);
    return customer;
  }

  updateCustomer(id: string, params: FormObject): StripeObject {
    const customer = this.#ledger.get('customer', id);
    const previous: Record<string, unknown> = {};
    for (const key of ['email', 'name', 'description'] as const) {
      if (typeof params[key] === 'string') {
        previous[key] = customer[key];
        customer[key] = params[key] === '' ? null : params[key];
      }
    }
    if (params.metadata !== undefined) {
      previous.metadata = customer.metadata;
      customer.metadata = { ...(customer.metadata as object), ...metadataParam(params.metadata) };
    }
    const settings = params.invoice_settings;
    if (
      typeof settings === 'object' &&
      !Array.isArray(settings) &&
      typeof settings.default_payment_method === 'string'
    ) {
      const pmId = settings.default_payment_method;
      const pm = this.#ledger.get('payment_method', pmId);
      if (pm.customer !== id) {
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          'resource_missing',
          `The payment method ${pmId} is not attached to ${id}.`,
        );
      }
      previous.invoice_settings = structuredClone(customer.invoice_settings);
      customer.invoice_settings = { default_payment_method: pmId };
    }
    this.#ledger.emit('customer.updated', customer, previous);
    return customer;
  }

  createProduct(params: FormObject): StripeObject {
    const product = this.#ledger.put('product', {
      id: newId('prod'),
      object: 'product',
      created: this.#ledger.nowSeconds(),
      name: required(params, 'name'),
      description: optionalString(params, 'description'),
      active: booleanParam(params, 'active') ?? true,
      metadata: metadataParam(params.metadata),
      livemode: false,
    });
    this.#ledger.emit('product.created', product);
    return product;
  }

  updateProduct(id: string, params: FormObject): StripeObject {
    const product = this.#ledger.get('product', id);
    if (typeof params.name === 'string' && params.name !== '') product.name = params.name;
    if (typeof params.description === 'string')
      product.description = params.description === '' ? null : params.description;
    const active = booleanParam(params, 'active');
    if (active !== null) product.active = active;
    if (params.metadata !== undefined)
      product.metadata = { ...(product.metadata as object), ...metadataParam(params.metadata) };
    this.#ledger.emit('product.updated', product);
    return product;
  }

  createPrice(params: FormObject): StripeObject {
    const productId = required(params, 'product');
    this.#ledger.get('product', productId);
    const unitAmount = integerParam(params, 'unit_amount');
    if (unitAmount < 0) {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'parameter_invalid_integer',
        'unit_amount must be >= 0',
        'unit_amount',
      );
    }
    const currency = required(params, 'currency').toLowerCase();
    let recurring: { interval: string; interval_count: number } | null = null;
    const rawRecurring = params.recurring;
    if (typeof rawRecurring === 'object' && !Array.isArray(rawRecurring)) {
      const interval = required(rawRecurring, 'interval');
      if (!['day', 'week', 'month', 'year'].includes(interval)) {
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          'parameter_invalid',
          `Invalid interval: ${interval}`,
          'recurring[interval]',
        );
      }
      recurring = { interval, interval_count: integerParam(rawRecurring, 'interval_count', 1) };
    }
    const price = this.#ledger.put('price', {
      id: newId('price'),
      object: 'price',
      created: this.#ledger.nowSeconds(),
      product: productId,
      unit_amount: unitAmount,
      currency,
      active: booleanParam(params, 'active') ?? true,
      recurring,
      type: recurring ? 'recurring' : 'one_time',
      metadata: metadataParam(params.metadata),
      livemode: false,
    });
    this.#ledger.emit('price.created', price);
    return price;
  }

  updatePrice(id: string, params: FormObject): StripeObject {
    const price = this.#ledger.get('price', id);
    const active = booleanParam(params, 'active');
    if (active !== null) price.active = active;
    if (params.metadata !== undefined)
      price.metadata = { ...(price.metadata as object), ...metadataParam(params.metadata) };
    this.#ledger.emit('price.updated', price);
    return price;
  }

  /** A card payment method; `number` never leaves the fake. */
  createCardMethod(number: string, customerId: string | null): StripeObject {
    const outcome = cardOutcome(number);
    const digits = normalizeCardNumber(number);
    const pm = this.#ledger.put('payment_method', {
      id: newId('pm'),
      object: 'payment_method',
      created: this.#ledger.nowSeconds(),
      type: 'card',
      card: { brand: outcome.ok ? outcome.brand : 'visa', last4: digits.slice(-4), exp_month: 12, exp_year: 2034 },
      customer: customerId,
      livemode: false,
    });
    this.#cardNumbers.set(pm.id, digits);
    return pm;
  }

  /** `paymentMethods.attach('pm_card_visa', { customer })` creates a fresh method, as in test mode. */
  attachPaymentMethod(id: string, params: FormObject): StripeObject {
    const customerId = required(params, 'customer');
    this.#ledger.get('customer', customerId);
    const magic = MAGIC_PAYMENT_METHODS[id];
    if (magic) return this.createCardMethod(magic, customerId);
    const pm = this.#ledger.get('payment_method', id);
    pm.customer = customerId;
    return pm;
  }

  cardNumberOf(pmId: string): string | null {
    return this.#cardNumbers.get(pmId) ?? null;
  }

  /** Test helper: the customer's next charges use this card. */
  setDefaultCard(customerId: string, number: string): StripeObject {
    const pm = this.createCardMethod(number, customerId);
    this.updateCustomer(customerId, { invoice_settings: { default_payment_method: pm.id } });
    return pm;
  }

  defaultPaymentMethodOf(customerId: string): string | null {
    const customer = this.#ledger.get('customer', customerId);
    const settings = customer.invoice_settings as { default_payment_method: string | null };
    return settings.default_payment_method;
  }
}
