import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { signPayload } from '../stripe-fake/webhook-delivery.js';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { startPaymentsWorld, type PaymentsWorld } from './payments-harness.js';
import { WEBHOOK_PATH } from './webhook-route.js';

/** Starts a checkout and pays it with the webhook endpoint unreachable; returns the completed event. */
async function paidWhileDeaf(world: PaymentsWorld): Promise<{ payload: string; paymentId: string; userId: string }> {
  const guest = await world.guest();
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${guest.token}` },
    payload: { planId: world.plans.hour.id },
  });
  const { url, paymentId } = response.json() as { url: string; paymentId: string };
  world.fake.setWebhookUrl(null);
  assert.ok(world.fake.payCheckout(url.split('/').pop()!, TEST_CARDS.success).ok);
  const event = world.fake.events().find((item) => item.type === 'checkout.session.completed')!;
  return { payload: JSON.stringify(event), paymentId, userId: guest.userId };
}

function post(world: PaymentsWorld, payload: string, signature: string | undefined) {
  return world.appliance.app.inject({
    method: 'POST',
    url: WEBHOOK_PATH,
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    payload,
  });
}

const now = (): number => Math.floor(Date.now() / 1000);

test('forged, tampered, too-old and unsigned webhooks get 400 and change nothing', async (t) => {
  const world = await startPaymentsWorld(t);
  const { payload, paymentId } = await paidWhileDeaf(world);
  const secret = world.config.payments.webhookSecret;
  const before = JSON.stringify(world.appliance.store.db);
  const cases: Array<[string, string, string | undefined]> = [
    ['no signature', payload, undefined],
    ['forged with another secret', payload, signPayload(payload, 'whsec_attacker', now())],
    ['tampered body', payload.replace('"paid"', '"PAID"'), signPayload(payload, secret, now())],
    ['too old (10 minutes)', payload, signPayload(payload, secret, now() - 600)],
    ['from the future (10 minutes)', payload, signPayload(payload, secret, now() + 600)],
    ['garbage header', payload, 't=abc,v1=00'],
  ];
  for (const [name, body, signature] of cases) {
    const response = await post(world, body, signature);
    assert.equal(response.statusCode, 400, name);
    assert.equal((response.json() as { error: { code: string } }).error.code, 'TP_ERR_WEBHOOK_SIGNATURE', name);
  }
  assert.equal(JSON.stringify(world.appliance.store.db), before);
  assert.equal(world.appliance.store.db.payments.payments[paymentId]?.status, 'pending');

  const genuine = await post(world, payload, signPayload(payload, secret, now()));
  assert.equal(genuine.statusCode, 200, genuine.body);
  assert.equal(world.appliance.store.db.payments.payments[paymentId]?.status, 'paid');
});

test('a duplicate event is applied once', async (t) => {
  const world = await startPaymentsWorld(t);
  const { payload, userId } = await paidWhileDeaf(world);
  const secret = world.config.payments.webhookSecret;
  const outcomes: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    const response = await post(world, payload, signPayload(payload, secret, now()));
    assert.equal(response.statusCode, 200);
    outcomes.push((response.json() as { outcome: string }).outcome);
  }
  assert.deepEqual(outcomes, ['applied', 'duplicate', 'duplicate']);
  const subs = Object.values(world.appliance.store.db.subscriptions).filter((sub) => sub.userId === userId);
  assert.equal(subs.length, 1);
  assert.ok(subs[0]!.endsAt! - Date.now() <= 3_600_000);
  assert.equal(world.appliance.store.db.sequences[`invoice:${new Date().getUTCFullYear()}`], 1);
  const history = await readFile(join(world.dir, 'store', 'payment-events.jsonl'), 'utf8');
  assert.equal(history.trim().split('\n').length, 1, 'the full payload is kept once in the payment-events history');
});

test('the fake retries a failing receiver with back-off until it accepts', async (t) => {
  const world = await startPaymentsWorld(t, { retry: { baseDelayMs: 30, maxDelayMs: 500, maxAttempts: 6 } });
  // A receiver that is down for its first two requests, then passes them on to the appliance.
  let refusals = 2;
  const target = world.webhookUrl();
  const flaky = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (refusals > 0) {
        refusals -= 1;
        res.writeHead(503).end();
        return;
      }
      const headers = {
        'content-type': String(req.headers['content-type']),
        'stripe-signature': String(req.headers['stripe-signature']),
      };
      fetch(target, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (answer) => res.writeHead(answer.status).end(await answer.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => flaky.close(() => resolve())));
  world.fake.setWebhookUrl(`http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`);
  const guest = await world.guest();
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${guest.token}` },
    payload: { planId: world.plans.hour.id },
  });
  const { url, paymentId } = response.json() as { url: string; paymentId: string };
  assert.ok(world.fake.payCheckout(url.split('/').pop()!, TEST_CARDS.success).ok);
  await world.fake.webhooksIdle();
  assert.equal(world.appliance.store.db.payments.payments[paymentId]?.status, 'paid');
  const retried = world.fake.deliveries().filter((record) => record.attempts > 1);
  assert.ok(retried.length >= 1 && retried.every((record) => record.delivered));
});
