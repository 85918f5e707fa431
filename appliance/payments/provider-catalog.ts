import type Stripe from 'stripe';
import type { Clock } from '../../shared/clock.js';
import type { Plan } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Store } from '../store/store.js';

const DAY = 86_400;

/** Stripe bills recurring prices in days or weeks (at most a year); a plan's duration must fit. */
export function recurringIntervalOf(plan: Plan): { interval: 'day' | 'week'; interval_count: number } {
  const seconds = plan.durationSeconds;
  if (seconds === null || seconds % DAY !== 0 || seconds > 365 * DAY) {
    throw new TurnpikeError(
      'TP_ERR_VALIDATION',
      `plan ${plan.id}: a recurring plan's duration must be whole days, at most 365`,
      {
        field: 'durationSeconds',
      },
    );
  }
  return seconds % (7 * DAY) === 0
    ? { interval: 'week', interval_count: seconds / (7 * DAY) }
    : { interval: 'day', interval_count: seconds / DAY };
}

export function priceKeyOf(plan: Plan): string {
  const cadence = plan.recurring
    ? (({ interval, interval_count }) => `${interval_count}${interval}`)(recurringIntervalOf(plan))
    : 'once';
  return `${plan.priceMinor}|${plan.currency.toLowerCase()}|${cadence}`;
}

/** Keeps one provider customer per account and a product + current price per paid plan. */
export class ProviderCatalog {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #stripe: Stripe;
  readonly #logger: Logger;

  constructor(deps: { store: Store; clock: Clock; stripe: Stripe; logger: Logger }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#stripe = deps.stripe;
    this.#logger = deps.logger;
  }

  async ensureCustomer(userId: string): Promise<string> {
    const link = this.#store.db.payments.customers[userId];
    if (link) return link.stripeCustomerId;
    const user = this.#store.db.users[userId];
    if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no user ${userId}`);
    const customer = await this.#stripe.customers.create(
      { email: user.email, name: user.displayName, metadata: { userId } },
      { idempotencyKey: `turnpike-customer-${userId}` },
    );
    return this.#store.update((db) => {
      const existing = db.payments.customers[userId];
      if (existing) return existing.stripeCustomerId;
      db.payments.customers[userId] = { userId, stripeCustomerId: customer.id, createdAt: this.#clock.now() };
      return customer.id;
    });
  }

  /** The provider price that currently sells `plan`, creating or replacing it when the plan changed. */
  async ensurePrice(plan: Plan): Promise<string> {
    if (plan.priceMinor <= 0) throw new TurnpikeError('TP_ERR_VALIDATION', `plan ${plan.id} is free; nothing to pay`);
    const key = priceKeyOf(plan);
    const sync = this.#store.db.payments.stripeSync[plan.id];
    if (sync && sync.priceKey === key) return sync.priceId;
    const productId =
      sync?.productId ??
      (
        await this.#stripe.products.create(
          { name: plan.name, description: plan.description || undefined, metadata: { planId: plan.id } },
          { idempotencyKey: `turnpike-product-${plan.id}` },
        )
      ).id;
    if (sync) await this.#stripe.products.update(productId, { name: plan.name });
    const price = await this.#stripe.prices.create(
      {
        product: productId,
        unit_amount: plan.priceMinor,
        currency: plan.currency.toLowerCase(),
        ...(plan.recurring ? { recurring: recurringIntervalOf(plan) } : {}),
        metadata: { planId: plan.id },
      },
      { idempotencyKey: `turnpike-price-${plan.id}-${key}` },
    );
    if (sync) {
      await this.#stripe.prices.update(sync.priceId, { active: false }).catch((err: unknown) => {
        this.#logger.warn({ err, priceId: sync.priceId }, 'could not deactivate a replaced price');
      });
    }
    await this.#store.update((db) => {
      const previous = db.payments.stripeSync[plan.id];
      db.payments.stripeSync[plan.id] = {
        planId: plan.id,
        productId,
        priceId: price.id,
        priceKey: key,
        retiredPriceIds:
          previous && previous.priceId !== price.id
            ? [...previous.retiredPriceIds, previous.priceId]
            : (previous?.retiredPriceIds ?? []),
        syncedAt: this.#clock.now(),
      };
    });
    return price.id;
  }

  /** Brings every paid, unarchived plan's product and price in line; archived plans' products are deactivated. */
  async syncAll(): Promise<{ synced: number; deactivated: number }> {
    let synced = 0;
    let deactivated = 0;
    for (const plan of Object.values(this.#store.db.plans)) {
      const sync = this.#store.db.payments.stripeSync[plan.id];
      if (plan.archived || plan.priceMinor <= 0) {
        if (sync) {
          await this.#stripe.products.update(sync.productId, { active: false });
          deactivated += 1;
        }
        continue;
      }
      await this.ensurePrice(plan);
      synced += 1;
    }
    return { synced, deactivated };
  }
}
