import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Payment } from '../../appliance/payments/model.js';
import { startPaymentsWorld, type PaymentsWorld } from '../payments/payments-harness.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

const SCRIPT = '<script>alert("x")</script>';

async function buy(world: PaymentsWorld, token: string, planId: string, card: string | null) {
  const response = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${token}` },
    payload: { planId },
  });
  assert.equal(response.statusCode, 201, response.body);
  const { paymentId, url } = response.json() as { paymentId: string; url: string };
  if (card) {
    assert.equal(world.fake.payCheckout(url.split('/').pop()!, card).ok, true);
    await world.fake.webhooksIdle();
  }
  return paymentId;
}

function browserOf(world: PaymentsWorld, token: string, lang = 'en'): FormClient {
  const browser = new FormClient(world.appliance.app, { headers: { 'accept-language': lang } });
  browser.cookies.set('tp_access', token);
  return browser;
}

test('the account page lists the guest’s own invoices with working HTML and PDF downloads, and every payment’s status', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  const paidId = await buy(world, guest.token, world.plans.hour.id, '4242 4242 4242 4242');
  await buy(world, guest.token, world.plans.hour.id, null);
  const { store } = world.appliance;
  const paid = store.db.payments.payments[paidId]!;
  const number = paid.invoiceNumber!;
  assert.match(number, /^\d{4}-\d{6}$/);
  // A failed renewal as the webhook applier records it; its provider message is shown escaped.
  await store.update((db) => {
    const failed: Payment = {
      ...paid,
      id: 'pay_failed_test',
      status: 'failed',
      invoiceNumber: null,
      failureMessage: `Card declined ${SCRIPT}`,
      createdAt: paid.createdAt - 86_400_000,
    };
    db.payments.payments[failed.id] = failed;
  });

  const browser = browserOf(world, guest.token);
  const page = await browser.get('/portal/account');
  assert.equal(page.statusCode, 200, page.body);
  assert.ok(Buffer.byteLength(page.body) < 50 * 1024, `${Buffer.byteLength(page.body)} bytes`);
  assert.ok(!page.body.includes('<script'), 'no script, not even the provider’s message');
  assert.doesNotMatch(page.body, /Invoices appear here once you buy a plan/);
  const invoices = page.body.slice(page.body.indexOf('id="inv-h"'), page.body.indexOf('id="pay-h"'));
  assert.match(
    invoices,
    new RegExp(`Invoice <b>${number}</b> · [^·]+ · <b>€2\\.00</b> <span class="badge on">paid</span>`),
  );
  assert.match(invoices, new RegExp(`href="/api/v1/invoices/${number}/html"`));
  assert.match(invoices, new RegExp(`href="/api/v1/invoices/${number}/pdf" download`));
  const payments = page.body.slice(page.body.indexOf('id="pay-h"'));
  const statuses = [...payments.matchAll(/data-status="(\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ['pending', 'paid', 'failed'], 'newest first, each with its status');
  assert.match(payments, /One hour · [^·]+ · <b>€2\.00<\/b> · Card declined &lt;script&gt;/);

  const html = await browser.get(`/api/v1/invoices/${number}/html`);
  assert.equal(html.statusCode, 200, 'the session cookie admits the download');
  assert.match(String(html.headers['content-type']), /^text\/html/);
  assert.ok(html.body.includes(number));
  const pdf = await browser.get(`/api/v1/invoices/${number}/pdf`);
  assert.equal(pdf.statusCode, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  assert.equal(pdf.rawPayload.subarray(0, 5).toString('latin1'), '%PDF-');

  const german = await browserOf(world, guest.token, 'de').get('/portal/account');
  assert.match(german.body, /Rechnungen/);
  assert.match(
    german.body,
    new RegExp(`Rechnung <b>${number}</b> · [^·]+ · <b>2,00\\s€</b> <span class="badge on">bezahlt</span>`),
  );
  assert.match(german.body, /data-status="pending">ausstehend</);
  assert.match(german.body, /data-status="failed">fehlgeschlagen</);
});

test('another guest sees none of it: an empty account page and "not found" for the invoice links', async (t) => {
  const world = await startPaymentsWorld(t);
  const payer = await world.guest();
  const paidId = await buy(world, payer.token, world.plans.hour.id, '4242 4242 4242 4242');
  const number = world.appliance.store.db.payments.payments[paidId]!.invoiceNumber!;
  const stranger = await world.guest();
  const browser = browserOf(world, stranger.token);
  const page = await browser.get('/portal/account');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Invoices appear here once you buy a plan\./);
  assert.match(page.body, /No payments yet\./);
  assert.ok(!page.body.includes(number));
  assert.equal((await browser.get(`/api/v1/invoices/${number}/html`)).statusCode, 404);
  assert.equal((await browser.get(`/api/v1/invoices/${number}/pdf`)).statusCode, 404);
  const anonymous = await new FormClient(world.appliance.app).get(`/api/v1/invoices/${number}/pdf`);
  assert.equal(anonymous.statusCode, 401);
});

test('a refund shows on the account page: the invoice and the payment both read "refunded"', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  const paidId = await buy(world, guest.token, world.plans.hour.id, '4242 4242 4242 4242');
  const admin = await world.staffToken('admin');
  const refund = await world.appliance.app.inject({
    method: 'POST',
    url: `/api/v1/payments/${paidId}/refund`,
    headers: { authorization: `Bearer ${admin}` },
  });
  assert.equal(refund.statusCode, 200, refund.body);
  const page = await browserOf(world, guest.token).get('/portal/account');
  assert.match(page.body, /<span class="badge">refunded<\/span>/, 'the invoice');
  assert.match(page.body, /data-status="refunded">refunded</, 'the payment');
});

test('a long-time subscriber’s account page shows the latest 24 invoices and payments, says so, and stays under 50 KB', async (t) => {
  const h = await startGuestPortal(t);
  const token = await h.tokenFor('guest');
  const userId = Object.values(h.store.db.users).find((user) => user.role === 'guest')!.id;
  await h.store.update((db) => {
    for (let i = 1; i <= 100; i += 1) {
      const number = `2026-${String(i).padStart(6, '0')}`;
      const at = Date.UTC(2026, 0, 1) + i * 86_400_000;
      db.payments.payments[`pay_${i}`] = {
        id: `pay_${i}`,
        userId,
        planId: 'plan_gone',
        kind: 'recurring',
        amountMinor: 1900,
        currency: 'EUR',
        status: 'paid',
        stripe: {
          customerId: null,
          checkoutSessionId: null,
          paymentIntentId: null,
          invoiceId: null,
          subscriptionId: null,
        },
        subscriptionId: null,
        grantedSeconds: 0,
        invoiceNumber: number,
        failureMessage: null,
        createdAt: at,
        updatedAt: at,
      };
      db.payments.invoices[number] = {
        number,
        year: 2026,
        paymentId: `pay_${i}`,
        userId,
        issuedAt: at,
        seller: { name: 'Venue', address: '', taxId: '', taxRatePercent: 19 },
        buyer: { name: '', email: '' },
        lines: [{ description: 'Monthly', quantity: 1, unitAmountMinor: 1900, amountMinor: 1900 }],
        currency: 'EUR',
        subtotalMinor: 1597,
        taxMinor: 303,
        totalMinor: 1900,
        status: 'paid',
      };
    }
  });
  const browser = new FormClient(h.app);
  browser.cookies.set('tp_access', token);
  const page = await browser.get('/portal/account');
  assert.equal(page.statusCode, 200);
  assert.ok(Buffer.byteLength(page.body) < 50 * 1024, `${Buffer.byteLength(page.body)} bytes`);
  assert.match(page.body, /Showing the latest 24\./);
  assert.equal([...page.body.matchAll(/\/api\/v1\/invoices\/[\d-]+\/pdf/g)].length, 24);
  assert.match(page.body, /2026-000100/, 'the newest is there');
  assert.ok(!page.body.includes('2026-000076'), 'the 25th newest is not');
  assert.equal([...page.body.matchAll(/data-status="paid"/g)].length, 24);
  assert.match(page.body, /plan_gone · [^·]+ · <b>€19\.00<\/b>/, 'a deleted plan still shows by its id');
});
