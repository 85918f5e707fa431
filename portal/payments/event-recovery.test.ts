import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { startPaymentsWorld, type PaymentsWorld } from './payments-harness.js';

const DAY = 86_400;

async function startCheckout(
  world: PaymentsWorld,
  token: string,
  planId: string,
): Promise<{ sessionId: string; paymentId: string }> {
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${token}` },
    payload: { planId },
  });
  assert.equal(response.statusCode, 201, response.body);
  const { url, paymentId } = response.json() as { url: string; paymentId: string };
  return { sessionId: url.split('/').pop()!, paymentId };
}

test('events emitted while the appliance was stopped are applied from GET /v1/events when it starts', async (t) => {
  const world = await startPaymentsWorld(t);
  const subscriber = await world.guest();
  const monthly = await startCheckout(world, subscriber.token, world.plans.monthly.id);
  assert.ok(world.fake.payCheckout(monthly.sessionId, TEST_CARDS.success).ok);
  await world.fake.webhooksIdle();
  const subscriptionId = world.appliance.store.db.payments.payments[monthly.paymentId]!.subscriptionId!;
  const firstEnd = world.appliance.store.db.subscriptions[subscriptionId]!.endsAt!;

  const buyer = await world.guest();
  const hour = await startCheckout(world, buyer.token, world.plans.hour.id);
  await world.stopAppliance();

  // While the appliance is down: a one-off purchase and a renewal; every delivery fails and is given up.
  assert.ok(world.fake.payCheckout(hour.sessionId, TEST_CARDS.success).ok);
  world.fake.advance(30 * DAY + 60);
  await world.fake.webhooksIdle();
  const missed = world.fake.deliveries().filter((record) => !record.delivered);
  assert.ok(missed.some((record) => record.type === 'checkout.session.completed'));
  assert.ok(missed.some((record) => record.type === 'invoice.paid'));

  const appliance = await world.startAppliance();
  const db = appliance.store.db;
  assert.equal(db.payments.payments[hour.paymentId]?.status, 'paid');
  const bought = db.subscriptions[db.payments.payments[hour.paymentId]!.subscriptionId!];
  assert.equal(bought?.status, 'active');
  assert.equal(db.subscriptions[subscriptionId]?.endsAt, firstEnd + 30 * DAY * 1000);
  assert.ok(db.payments.processedEvents.cursorEventId, 'recovery left a cursor');

  const again = await appliance.payments.recoverMissedEvents();
  assert.equal(again.applied, 0, 'a second recovery finds nothing new');
});

test('recovery walks forward from its cursor and skips what webhooks already applied', async (t) => {
  const world = await startPaymentsWorld(t);
  const first = await world.guest();
  const a = await startCheckout(world, first.token, world.plans.hour.id);
  assert.ok(world.fake.payCheckout(a.sessionId, TEST_CARDS.success).ok);
  await world.fake.webhooksIdle();
  const initial = await world.appliance.payments.recoverMissedEvents();
  assert.equal(initial.applied, 0, 'everything had arrived by webhook');
  const cursor = world.appliance.store.db.payments.processedEvents.cursorEventId;
  assert.equal(cursor, world.fake.events().at(-1)!.id);

  world.fake.setWebhookUrl(null);
  const second = await world.guest();
  const b = await startCheckout(world, second.token, world.plans.hour.id);
  assert.ok(world.fake.payCheckout(b.sessionId, TEST_CARDS.success).ok);
  const result = await world.appliance.payments.recoverMissedEvents();
  assert.equal(result.applied, 1);
  assert.equal(world.appliance.store.db.payments.payments[b.paymentId]?.status, 'paid');
  assert.equal(result.cursorEventId, world.fake.events().at(-1)!.id);
});
