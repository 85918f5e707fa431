import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { TEST_CARDS } from './fake-cards.js';
import { parseStripeForm } from './form-params.js';
import { startStripeFake, type StripeFake } from './stripe-fake.js';

const SECRET = 'whsec_fake_test';

async function fakeWithSdk(
  t: { after: (fn: () => Promise<void>) => void },
  webhookUrl: string | null = null,
): Promise<{ fake: StripeFake; stripe: Stripe }> {
  const fake = await startStripeFake({
    webhookSecret: SECRET,
    webhookUrl,
    retry: { baseDelayMs: 10, maxDelayMs: 50, maxAttempts: 5 },
  });
  t.after(() => fake.close());
  const stripe = new Stripe('sk_test_fake', {
    host: '127.0.0.1',
    port: fake.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  return { fake, stripe };
}

async function oneTimePrice(stripe: Stripe, amount = 500): Promise<Stripe.Price> {
  const product = await stripe.products.create({ name: 'Day pass', metadata: { planId: 'p1' } });
  return stripe.prices.create({ product: product.id, unit_amount: amount, currency: 'eur' });
}

test('bracket form bodies parse into nested objects and arrays, all values strings', () => {
  assert.deepEqual(
    parseStripeForm(
      'line_items[0][price]=price_1&line_items[0][quantity]=2&metadata[a%20b]=c+d&expand[]=x&expand[]=y&mode=payment',
    ),
    {
      line_items: [{ price: 'price_1', quantity: '2' }],
      metadata: { 'a b': 'c d' },
      expand: ['x', 'y'],
      mode: 'payment',
    },
  );
});

test('objects carry Stripe id prefixes and the SDK round-trips nested parameters', async (t) => {
  const { stripe } = await fakeWithSdk(t);
  const customer = await stripe.customers.create({ email: 'a@example.test', metadata: { userId: 'u1' } });
  const price = await oneTimePrice(stripe);
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 2 }],
    metadata: { paymentId: 'pay_1' },
    success_url: 'http://portal.test/return?session_id={CHECKOUT_SESSION_ID}',
  });
  assert.match(customer.id, /^cus_/);
  assert.match(price.id, /^price_/);
  assert.match(String(price.product), /^prod_/);
  assert.match(session.id, /^cs_test_/);
  assert.equal(session.amount_total, 1000);
  assert.deepEqual(session.metadata, { paymentId: 'pay_1' });
  assert.equal(customer.metadata.userId, 'u1');
  const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
  assert.equal(expanded.line_items?.data[0]?.quantity, 2);
});

test('errors come in Stripe’s shape, so the SDK raises its own error classes', async (t) => {
  const { fake, stripe } = await fakeWithSdk(t);
  await assert.rejects(stripe.customers.retrieve('cus_missing'), (err: Stripe.errors.StripeError) => {
    assert.equal(err.type, 'StripeInvalidRequestError');
    assert.equal(err.code, 'resource_missing');
    assert.equal(err.statusCode, 404);
    return true;
  });
  await assert.rejects(
    stripe.checkout.sessions.create({ mode: 'payment', success_url: 'http://x/' }),
    (err: Stripe.errors.StripeError) => {
      assert.equal(err.code, 'parameter_missing');
      return true;
    },
  );
  const wrongKey = new Stripe('sk_live_nope', {
    host: '127.0.0.1',
    port: fake.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  await assert.rejects(
    wrongKey.customers.list(),
    (err: Stripe.errors.StripeError) => err.type === 'StripeAuthenticationError',
  );
  const raw = await fetch(`${fake.url}/v1/nothing`, { headers: { authorization: 'Bearer sk_test_x' } });
  const body = (await raw.json()) as { error: { type: string; code: string; message: string } };
  assert.equal(raw.status, 404);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'type']);
});

test('the same idempotency key returns the same object; reusing it with other parameters is refused', async (t) => {
  const { stripe } = await fakeWithSdk(t);
  const first = await stripe.customers.create({ email: 'x@example.test' }, { idempotencyKey: 'key-1' });
  const again = await stripe.customers.create({ email: 'x@example.test' }, { idempotencyKey: 'key-1' });
  assert.equal(again.id, first.id);
  assert.equal((await stripe.customers.list({ limit: 100 })).data.length, 1);
  await assert.rejects(
    stripe.customers.create({ email: 'y@example.test' }, { idempotencyKey: 'key-1' }),
    (err: Stripe.errors.StripeError) => {
      assert.equal(err.type, 'StripeIdempotencyError');
      return true;
    },
  );
});

test('GET /v1/events pages newest first with starting_after and ending_before', async (t) => {
  const { fake, stripe } = await fakeWithSdk(t);
  for (let i = 0; i < 7; i += 1) await stripe.customers.create({ email: `c${i}@example.test` });
  const all = fake.events().map((event) => event.id);
  assert.equal(all.length, 7);
  const newest = await stripe.events.list({ limit: 3 });
  assert.deepEqual(
    newest.data.map((event) => event.id),
    [all[6], all[5], all[4]],
  );
  assert.equal(newest.has_more, true);
  const older = await stripe.events.list({ limit: 3, starting_after: all[4] });
  assert.deepEqual(
    older.data.map((event) => event.id),
    [all[3], all[2], all[1]],
  );
  const newer = await stripe.events.list({ limit: 2, ending_before: all[1] });
  assert.deepEqual(
    newer.data.map((event) => event.id),
    [all[3], all[2]],
    'the two just newer than the cursor',
  );
  assert.equal(newer.has_more, true);
  const retrieved = await stripe.events.retrieve(all[0]!);
  assert.equal(retrieved.type, 'customer.created');
});

test('webhooks are signed so that the SDK verifies them, and retried while the receiver fails', async (t) => {
  const received: Stripe.Event[] = [];
  let failures = 2;
  const { fake, stripe } = await fakeWithSdk(t);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500).end();
        return;
      }
      received.push(
        stripe.webhooks.constructEvent(Buffer.concat(chunks), String(req.headers['stripe-signature']), SECRET),
      );
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  fake.setWebhookUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  const customer = await stripe.customers.create({ email: 'w@example.test' });
  await fake.webhooksIdle();
  assert.equal(received.length, 1);
  assert.equal(received[0]?.type, 'customer.created');
  assert.equal((received[0]?.data.object as { id: string }).id, customer.id);
  assert.equal(fake.deliveries()[0]?.attempts, 3);
});

test('the hosted checkout page declines 4000 0000 0000 0002 with a clear message, and a retry with 4242 succeeds', async (t) => {
  const { fake, stripe } = await fakeWithSdk(t);
  const price = await oneTimePrice(stripe, 250);
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: 'http://portal.test/done?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://portal.test/',
  });
  const page = await fetch(session.url!);
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /<form method="post"/);
  assert.match(html, /€2\.50/);
  const pay = (card: string) =>
    fetch(session.url!, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'g@example.test', cardnumber: card }).toString(),
    });
  const declined = await pay('4000 0000 0000 0002');
  assert.equal(declined.status, 402);
  assert.match(await declined.text(), /role="alert"[^>]*>Your card was declined\./);
  assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  const paid = await pay('4242 4242 4242 4242');
  assert.equal(paid.status, 303);
  assert.equal(paid.headers.get('location'), `http://portal.test/done?session_id=${session.id}`);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  assert.equal(done.payment_status, 'paid');
  const intent = await stripe.paymentIntents.retrieve(String(done.payment_intent));
  assert.equal(intent.status, 'succeeded');
  const types = fake.events().map((event) => event.type);
  assert.ok(types.indexOf('payment_intent.payment_failed') < types.indexOf('checkout.session.completed'));
});

test('subscriptions renew on the test clock; the decline card makes the renewal fail; refunds mark the charge', async (t) => {
  const { fake, stripe } = await fakeWithSdk(t);
  const product = await stripe.products.create({ name: 'Weekly' });
  const price = await stripe.prices.create({
    product: product.id,
    unit_amount: 700,
    currency: 'eur',
    recurring: { interval: 'week' },
  });
  const customer = await stripe.customers.create({ email: 's@example.test' });
  const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  assert.match(sub.id, /^sub_/);
  assert.equal(sub.status, 'active');
  const end = sub.items.data[0]!.current_period_end;

  // The test clock over HTTP, as a script or the embedded default's operator would drive it.
  const advanced = await fetch(`${fake.url}/_fake/advance`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk_test_fake', 'content-type': 'application/x-www-form-urlencoded' },
    body: `seconds=${7 * 86_400 + 10}`,
  });
  assert.equal(advanced.status, 200);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(renewed.items.data[0]!.current_period_start, end);
  assert.equal(
    (await stripe.invoices.list({ subscription: sub.id })).data.filter((invoice) => invoice.status === 'paid').length,
    2,
  );

  fake.setDefaultCard(customer.id, TEST_CARDS.declined);
  fake.advance(7 * 86_400);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'past_due');
  assert.ok(fake.events().some((event) => event.type === 'invoice.payment_failed'));

  const invoices = await stripe.invoices.list({ subscription: sub.id, status: 'paid' });
  const intentId = invoices.data[0]!.payments!.data[0]!.payment.payment_intent as string;
  const refund = await stripe.refunds.create({ payment_intent: intentId });
  assert.match(refund.id, /^re_/);
  const charge = await stripe.charges.retrieve(refund.charge as string);
  assert.match(charge.id, /^ch_/);
  assert.equal(charge.refunded, true);
  await assert.rejects(
    stripe.refunds.create({ charge: charge.id }),
    (err: Stripe.errors.StripeError) => err.code === 'charge_already_refunded',
  );

  const cancelled = await stripe.subscriptions.cancel(sub.id);
  assert.equal(cancelled.status, 'canceled');
  assert.equal(fake.events().at(-1)?.type, 'customer.subscription.deleted');
});
