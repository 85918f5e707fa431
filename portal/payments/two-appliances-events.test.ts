import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { HANDLED_EVENT_TYPES } from '../../appliance/payments/event-applier.js';
import { createPayments } from '../../appliance/payments/payments.js';
import { createStripeClient } from '../../appliance/payments/stripe-client.js';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { startPaymentsWorld } from './payments-harness.js';

test('two appliances recovering the same missed events apply each one once, one at a time', async (t) => {
  const world = await startPaymentsWorld(t);
  const first = world.appliance;
  // A second appliance on the same store: its own payments domain, its own holder of the applier lease.
  const second = createPayments({
    store: first.store,
    clock: systemClock,
    logger: silentLogger,
    config: world.config,
    stripe: createStripeClient(world.config.payments),
  });
  t.after(() => second.stop());

  // Webhooks go nowhere: both appliances learn of the purchases from the event list.
  world.fake.setWebhookUrl(null);
  const paymentIds: string[] = [];
  for (let i = 0; i < 4; i += 1) {
    const guest = await world.guest();
    const planId = i % 2 === 0 ? world.plans.hour.id : world.plans.monthly.id;
    const response = await first.app.inject({
      method: 'POST',
      url: '/api/v1/payments/checkout',
      headers: { authorization: `Bearer ${guest.token}` },
      payload: { planId },
    });
    assert.equal(response.statusCode, 201, response.body);
    const { url, paymentId } = response.json() as { url: string; paymentId: string };
    assert.ok(world.fake.payCheckout(url.split('/').pop()!, TEST_CARDS.success).ok);
    paymentIds.push(paymentId);
  }
  const handled = world.fake.events().filter((event) => HANDLED_EVENT_TYPES.has(event.type)).length;

  const [a, b] = await Promise.all([first.payments.recoverMissedEvents(), second.recoverMissedEvents()]);

  assert.equal(a.applied + b.applied, handled, `A applied ${a.applied}, B ${b.applied}, of ${handled}`);
  const applied = await first.store.history<{ id: string }>('payment-events').readAll();
  assert.equal(new Set(applied.map((record) => record.id)).size, applied.length, 'no event was applied twice');
  assert.equal(applied.length, handled);
  for (const paymentId of paymentIds) assert.equal(first.store.db.payments.payments[paymentId]?.status, 'paid');
  assert.equal(first.store.db.leases['payments:event-applier'], undefined, 'the lease is free again');
});
