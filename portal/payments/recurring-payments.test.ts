import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Subscription } from '../../appliance/domain/model.js';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { startPaymentsWorld, type PaymentsWorld } from './payments-harness.js';

const DAY = 86_400;

/** Subscribes a fresh guest to the monthly plan through the API and the fake's hosted checkout. */
async function subscribe(
  world: PaymentsWorld,
): Promise<{ userId: string; token: string; subscription: () => Subscription; customerId: string }> {
  const guest = await world.guest();
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${guest.token}` },
    payload: { planId: world.plans.monthly.id },
  });
  assert.equal(response.statusCode, 201, response.body);
  const { url, paymentId } = response.json() as { url: string; paymentId: string };
  assert.equal(world.fake.payCheckout(url.split('/').pop()!, TEST_CARDS.success).ok, true);
  await world.fake.webhooksIdle();
  const payment = world.appliance.store.db.payments.payments[paymentId]!;
  assert.equal(payment.status, 'paid');
  const subscriptionId = payment.subscriptionId!;
  return {
    ...guest,
    customerId: payment.stripe.customerId!,
    subscription: () => world.appliance.store.db.subscriptions[subscriptionId]!,
  };
}

test('a recurring plan is active until the period end and renews when the test clock passes it', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await subscribe(world);
  const first = guest.subscription();
  assert.equal(first.status, 'active');
  const periodEnd = first.endsAt!;
  assert.ok(Math.abs(periodEnd - (Date.now() + 30 * DAY * 1000)) < 60_000, 'ends one period from now');

  // The guest spends data in the first month; the renewal brings the whole allowance back.
  await world.appliance.store.update((db) => {
    db.subscriptions[first.id]!.bytesUsed = 5 * 1024 ** 3;
  });

  world.fake.advance(30 * DAY + 3600);
  await world.fake.webhooksIdle();
  const renewed = guest.subscription();
  assert.equal(renewed.status, 'active');
  assert.equal(renewed.endsAt, periodEnd + 30 * DAY * 1000);
  assert.equal(renewed.bytesUsed, 0, "a renewal starts the new period's quota afresh");
  const payments = Object.values(world.appliance.store.db.payments.payments).filter(
    (payment) => payment.userId === guest.userId,
  );
  assert.deepEqual(
    payments.map((payment) => payment.status),
    ['paid', 'paid'],
  );
  const numbers = payments.map((payment) => payment.invoiceNumber!.slice(5)).sort();
  assert.deepEqual(numbers, ['000001', '000002']);
});

test('a failed renewal makes the plan past due, and after the grace period it is suspended', async (t) => {
  const world = await startPaymentsWorld(t, { graceDays: 3 });
  const guest = await subscribe(world);
  world.fake.setDefaultCard(guest.customerId, TEST_CARDS.declined);
  world.fake.advance(30 * DAY + 60);
  await world.fake.webhooksIdle();
  const pastDue = guest.subscription();
  assert.equal(pastDue.status, 'past_due');
  const failed = Object.values(world.appliance.store.db.payments.payments).find(
    (payment) => payment.status === 'failed',
  );
  assert.equal(failed?.failureMessage, 'Your card was declined.');
  const link = Object.values(world.appliance.store.db.payments.recurring)[0]!;
  assert.ok(link.pastDueSince !== null);

  const changedBefore = world.appliance.changed.length;
  assert.deepEqual(await world.appliance.payments.sweepGracePeriods(link.pastDueSince! + 2 * DAY * 1000), []);
  assert.equal(guest.subscription().status, 'past_due');
  assert.deepEqual(await world.appliance.payments.sweepGracePeriods(link.pastDueSince! + 3 * DAY * 1000), [pastDue.id]);
  assert.equal(guest.subscription().status, 'suspended');
  assert.deepEqual(world.appliance.changed.slice(changedBefore), [pastDue.id]);

  // The guest fixes the card; the provider's next retry pays and access returns.
  world.fake.setDefaultCard(guest.customerId, TEST_CARDS.success);
  world.fake.advance(2 * DAY);
  await world.fake.webhooksIdle();
  assert.equal(guest.subscription().status, 'active');
});

test('cancel at period end keeps access until the period ends, then the plan is cancelled', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await subscribe(world);
  const sub = guest.subscription();
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: `/api/v1/payments/subscriptions/${sub.id}/cancel-at-period-end`,
    headers: { authorization: `Bearer ${guest.token}` },
    payload: { cancelAtPeriodEnd: true },
  });
  assert.equal(response.statusCode, 204, response.body);
  assert.equal(guest.subscription().cancelAtPeriodEnd, true);
  assert.equal(guest.subscription().status, 'active');
  const provider = await world.stripe.subscriptions.retrieve(
    Object.keys(world.appliance.store.db.payments.recurring)[0]!,
  );
  assert.equal(provider.cancel_at_period_end, true);

  world.fake.advance(30 * DAY + 60);
  await world.fake.webhooksIdle();
  assert.equal(guest.subscription().status, 'cancelled');
  assert.ok(guest.subscription().endsAt! <= sub.endsAt!);
});

test('a stale payment_failed event delivered after the renewal was paid changes nothing (state is re-read)', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await subscribe(world);
  world.fake.setDefaultCard(guest.customerId, TEST_CARDS.declined);
  world.fake.setWebhookUrl(null);
  world.fake.advance(30 * DAY + 60);
  const stale = world.fake
    .events()
    .filter((event) => event.type === 'invoice.payment_failed')
    .pop()!;
  world.fake.setDefaultCard(guest.customerId, TEST_CARDS.success);
  world.fake.setWebhookUrl(world.webhookUrl());
  world.fake.advance(DAY + 60);
  await world.fake.webhooksIdle();
  assert.equal(guest.subscription().status, 'active');

  const payload = JSON.stringify(stale);
  const signature = world.stripe.webhooks.generateTestHeaderString({
    payload,
    secret: world.config.payments.webhookSecret,
  });
  const late = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/webhook',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    payload,
  });
  assert.equal(late.statusCode, 200, late.body);
  assert.equal((late.json() as { outcome: string }).outcome, 'applied');
  assert.equal(guest.subscription().status, 'active');
});
