import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeEntitlementFor } from '../../appliance/sessions/owner-entitlements.js';
import type { Payment } from '../../appliance/payments/model.js';
import { startPaymentsWorld, type PaymentsWorld } from './payments-harness.js';

const HOUR_MS = 3_600_000;

async function checkout(
  world: PaymentsWorld,
  token: string,
  planId: string,
): Promise<{ paymentId: string; url: string; sessionId: string }> {
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${token}` },
    payload: { planId },
  });
  assert.equal(response.statusCode, 201, response.body);
  const body = response.json() as { paymentId: string; url: string };
  const sessionId = body.url.split('/').pop()!;
  return { ...body, sessionId };
}

async function paymentsOf(world: PaymentsWorld, token: string): Promise<Payment[]> {
  const response = await world.appliance.app.inject({
    method: 'GET',
    url: '/api/v1/payments',
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as Payment[];
}

test('a guest who pays for a one-off plan gets the plan’s time once the signed webhook arrives', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  const started = await checkout(world, guest.token, world.plans.hour.id);
  assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+\/c\/pay\/cs_test_/);
  assert.equal((await paymentsOf(world, guest.token))[0]?.status, 'pending');

  const paidAt = Date.now();
  assert.deepEqual(world.fake.payCheckout(started.sessionId, '4242 4242 4242 4242').ok, true);
  await world.fake.webhooksIdle();

  const delivered = world.fake.deliveries().find((record) => record.type === 'checkout.session.completed');
  assert.equal(delivered?.delivered, true);
  const result = activeEntitlementFor(world.appliance.store, `user:${guest.userId}`, Date.now());
  assert.ok('entitlement' in result, 'the guest has an entitlement');
  const { subscription, secondsLeft } = result.entitlement;
  assert.equal(subscription.planId, world.plans.hour.id);
  assert.equal(subscription.source, 'payment');
  assert.ok(secondsLeft !== null && secondsLeft > 3590 && secondsLeft <= 3600, `secondsLeft ${secondsLeft}`);
  assert.ok(subscription.endsAt! >= paidAt + HOUR_MS);

  const [payment] = await paymentsOf(world, guest.token);
  assert.equal(payment?.status, 'paid');
  assert.equal(payment?.amountMinor, 200);
  assert.match(payment?.invoiceNumber ?? '', /^\d{4}-000001$/);
  assert.deepEqual(world.appliance.changed, [subscription.id]);
});

test('buying the same one-off plan again extends the running time instead of starting over', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  for (let i = 0; i < 2; i += 1) {
    const started = await checkout(world, guest.token, world.plans.hour.id);
    assert.equal(world.fake.payCheckout(started.sessionId, '4242424242424242').ok, true);
    await world.fake.webhooksIdle();
  }
  const subs = Object.values(world.appliance.store.db.subscriptions).filter((sub) => sub.userId === guest.userId);
  assert.equal(subs.length, 1);
  const left = (subs[0]!.endsAt! - Date.now()) / 1000;
  assert.ok(left > 2 * 3600 - 30 && left <= 2 * 3600, `left ${left}`);
  const numbers = (await paymentsOf(world, guest.token)).map((payment) => payment.invoiceNumber).sort();
  assert.deepEqual(
    numbers.map((n) => n?.slice(5)),
    ['000001', '000002'],
  );
});

test('a declined card leaves the payment failed with the reason, and a retry with a good card pays it', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  const started = await checkout(world, guest.token, world.plans.hour.id);
  const declined = world.fake.payCheckout(started.sessionId, '4000 0000 0000 0002');
  assert.deepEqual(declined, { ok: false, message: 'Your card was declined.' });
  await world.fake.webhooksIdle();
  const [failed] = await paymentsOf(world, guest.token);
  assert.equal(failed?.status, 'failed');
  assert.equal(failed?.failureMessage, 'Your card was declined.');
  assert.equal(
    activeEntitlementFor(world.appliance.store, `user:${guest.userId}`, Date.now()).hasOwnProperty('entitlement'),
    false,
  );

  assert.equal(world.fake.payCheckout(started.sessionId, '4242 4242 4242 4242').ok, true);
  await world.fake.webhooksIdle();
  const [paid] = await paymentsOf(world, guest.token);
  assert.equal(paid?.status, 'paid');
  assert.equal(paid?.failureMessage, null);
});

test('the checkout return route applies the payment before the webhook arrives', async (t) => {
  const world = await startPaymentsWorld(t);
  world.fake.setWebhookUrl(null);
  const guest = await world.guest();
  const started = await checkout(world, guest.token, world.plans.hour.id);
  const paid = world.fake.payCheckout(started.sessionId, '4242424242424242');
  assert.ok(paid.ok);
  const returnUrl = new URL(paid.redirect);
  assert.equal(returnUrl.searchParams.get('session_id'), started.sessionId);
  const response = await world.appliance.app.inject({
    method: 'GET',
    url: `${returnUrl.pathname}${returnUrl.search}`,
    headers: { authorization: `Bearer ${guest.token}` },
  });
  assert.equal(response.statusCode, 303);
  assert.equal(response.headers.location, '/portal/status');
  assert.equal(world.appliance.store.db.payments.payments[started.paymentId]?.status, 'paid');
});

test('payments are private: a guest cannot read another guest’s payment; staff can list all', async (t) => {
  const world = await startPaymentsWorld(t);
  const alice = await world.guest();
  const bob = await world.guest();
  const started = await checkout(world, alice.token, world.plans.hour.id);
  const peek = await world.appliance.app.inject({
    method: 'GET',
    url: `/api/v1/payments/${started.paymentId}`,
    headers: { authorization: `Bearer ${bob.token}` },
  });
  assert.equal(peek.statusCode, 404);
  assert.deepEqual(await paymentsOf(world, bob.token), []);
  const operator = await world.staffToken('operator');
  const all = await paymentsOf(world, operator);
  assert.deepEqual(
    all.map((payment) => payment.id),
    [started.paymentId],
  );
  const refundByOperator = await world.appliance.app.inject({
    method: 'POST',
    url: `/api/v1/payments/${started.paymentId}/refund`,
    headers: { authorization: `Bearer ${operator}` },
  });
  assert.equal(refundByOperator.statusCode, 403);
});

test('a refund revokes the time the payment bought', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  const started = await checkout(world, guest.token, world.plans.hour.id);
  assert.ok(world.fake.payCheckout(started.sessionId, '4242424242424242').ok);
  await world.fake.webhooksIdle();
  const admin = await world.staffToken('admin');
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: `/api/v1/payments/${started.paymentId}/refund`,
    headers: { authorization: `Bearer ${admin}` },
  });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal((response.json() as Payment).status, 'refunded');
  await world.fake.webhooksIdle();
  const db = world.appliance.store.db;
  assert.equal(
    activeEntitlementFor(world.appliance.store, `user:${guest.userId}`, Date.now()).hasOwnProperty('entitlement'),
    false,
  );
  const payment = db.payments.payments[started.paymentId]!;
  assert.equal(db.subscriptions[payment.subscriptionId!]?.status, 'cancelled');
  assert.equal(db.payments.invoices[payment.invoiceNumber!]?.status, 'refunded');
  const charge = world.fake.events().find((event) => event.type === 'charge.refunded');
  assert.ok(charge, 'the fake emitted charge.refunded');
});

test('the guest downloads their invoice as HTML and PDF; another guest cannot', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  const other = await world.guest();
  const started = await checkout(world, guest.token, world.plans.hour.id);
  assert.ok(world.fake.payCheckout(started.sessionId, '4242424242424242').ok);
  await world.fake.webhooksIdle();
  const list = await world.appliance.app.inject({
    method: 'GET',
    url: '/api/v1/invoices',
    headers: { authorization: `Bearer ${guest.token}` },
  });
  const [invoice] = list.json() as Array<{ number: string; totalMinor: number }>;
  assert.equal(invoice?.totalMinor, 200);
  const get = (path: string, token: string) =>
    world.appliance.app.inject({
      method: 'GET',
      url: `/api/v1/invoices/${invoice!.number}${path}`,
      headers: { authorization: `Bearer ${token}` },
    });
  const pdf = await get('/pdf', guest.token);
  assert.equal(pdf.statusCode, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  assert.equal(pdf.rawPayload.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.ok(pdf.rawPayload.toString('latin1').includes(invoice!.number));
  const html = await get('/html', guest.token);
  assert.match(html.body, new RegExp(`Invoice ${invoice!.number}`));
  assert.equal((await get('/pdf', other.token)).statusCode, 404);
  assert.equal((await get('', await world.staffToken('operator'))).statusCode, 200);
});

test('ten guests paying at the same moment get gap-free invoice numbers', async (t) => {
  const world = await startPaymentsWorld(t);
  const guests = await Promise.all(Array.from({ length: 10 }, () => world.guest()));
  const sessions = await Promise.all(guests.map((guest) => checkout(world, guest.token, world.plans.hour.id)));
  for (const session of sessions) assert.ok(world.fake.payCheckout(session.sessionId, '4242424242424242').ok);
  await world.fake.webhooksIdle();
  const numbers = Object.values(world.appliance.store.db.payments.payments)
    .map((payment) => payment.invoiceNumber?.slice(5))
    .sort();
  assert.deepEqual(
    numbers,
    Array.from({ length: 10 }, (_, i) => String(i + 1).padStart(6, '0')),
  );
});
