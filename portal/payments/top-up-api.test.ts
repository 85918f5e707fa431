import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../shared/clock.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { startPaymentsWorld } from './payments-harness.js';

const GIB = 2 ** 30;

test('over the API a guest tops up their own throttled plan; a plan without data or someone else’s subscription is refused', async (t) => {
  const world = await startPaymentsWorld(t);
  const { store, app } = world.appliance;
  const week = await createPlan(store, systemClock, {
    name: 'Week',
    priceMinor: 500,
    durationSeconds: 7 * 86_400,
    quotaBytes: GIB,
    onQuotaExhausted: { action: 'throttle', upKbps: 128, downKbps: 256 },
  });
  const extra = await createPlan(store, systemClock, {
    name: 'Extra',
    priceMinor: 300,
    durationSeconds: null,
    quotaBytes: GIB,
  });
  const guest = await world.guest();
  const other = await world.guest();
  const own = await grantSubscription(store, systemClock, {
    userId: guest.userId,
    voucherCode: null,
    plan: week,
    source: 'payment',
    sourceRef: null,
  });
  const checkout = (token: string, payload: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/payments/checkout',
      headers: { authorization: `Bearer ${token}` },
      payload,
    });

  const foreign = await checkout(other.token, { planId: extra.id, topUpOf: own.id });
  assert.equal(foreign.statusCode, 404, foreign.body);
  const noData = await checkout(guest.token, { planId: world.plans.hour.id, topUpOf: own.id });
  assert.equal(noData.statusCode, 400, noData.body);

  const started = await checkout(guest.token, { planId: extra.id, topUpOf: own.id });
  assert.equal(started.statusCode, 201, started.body);
  const sessionId = (started.json() as { url: string }).url.split('/').pop()!;
  assert.ok(world.fake.payCheckout(sessionId, TEST_CARDS.success).ok);
  await world.fake.webhooksIdle();
  const payment = store.db.payments.payments[(started.json() as { paymentId: string }).paymentId]!;
  assert.equal(payment.status, 'paid');
  assert.equal(payment.subscriptionId, own.id);
  assert.equal(payment.grantedBytes, GIB);
  assert.equal(store.db.subscriptions[own.id]!.topUpBytes, GIB);
  assert.ok(world.appliance.changed.includes(own.id), 'the live sessions are told the new limits');
});
