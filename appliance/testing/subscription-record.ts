import type { Subscription } from '../domain/model.js';

/** A complete active Subscription record for tests: a paid hour from `now`, plus what the test sets. */
export function subscriptionRecord(
  overrides: Partial<Subscription> & Pick<Subscription, 'id' | 'planId'>,
  now = 0,
): Subscription {
  return {
    userId: 'u1',
    voucherCode: null,
    source: 'payment',
    sourceRef: null,
    status: 'active',
    startedAt: now,
    endsAt: now + 3_600_000,
    bytesUsed: 0,
    cancelAtPeriodEnd: false,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
