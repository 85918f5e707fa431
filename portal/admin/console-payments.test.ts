import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRecord } from '../../appliance/accounts/audit.js';
import { systemClock } from '../../shared/clock.js';
import { startPaymentsWorld } from '../payments/payments-harness.js';
import { consoleStaff } from './console-test-kit.js';

test('payments and invoices in the console: the front desk lists them, an admin refunds one and the audit log keeps it', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  const started = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${guest.token}` },
    payload: { planId: world.plans.hour.id },
  });
  assert.equal(started.statusCode, 201, started.body);
  const { paymentId, url } = started.json() as { paymentId: string; url: string };
  assert.ok(world.fake.payCheckout(url.split('/').pop()!, '4242424242424242').ok);
  await world.fake.webhooksIdle();
  const payment = world.appliance.store.db.payments.payments[paymentId]!;
  assert.equal(payment.status, 'paid');

  const consoleWorld = { app: world.appliance.app, accounts: world.appliance.accounts, clock: systemClock };
  const operator = await consoleStaff(consoleWorld, 'operator');
  const list = await operator.browser.get('/admin/payments');
  assert.equal(list.statusCode, 200);
  assert.match(list.body, new RegExp(guest.email.replace(/[.+]/g, '\\$&')));
  assert.match(list.body, new RegExp(`/api/v1/invoices/${payment.invoiceNumber}/pdf`), 'the invoice PDF is linked');
  assert.doesNotMatch(list.body, /\/refund"/, 'operators do not refund');
  const pdf = await operator.browser.get(`/api/v1/invoices/${payment.invoiceNumber}/pdf`);
  assert.equal(pdf.statusCode, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  assert.equal((await operator.browser.post(`/admin/payments/${paymentId}/refund`, {})).statusCode, 403);

  const admin = await consoleStaff(consoleWorld, 'admin');
  await admin.browser.get('/admin/payments?status=paid');
  const refunded = await admin.browser.post(`/admin/payments/${paymentId}/refund`, {});
  assert.equal(refunded.statusCode, 200, refunded.body);
  assert.match(refunded.body, /Refunded; the access the payment bought is revoked/);
  assert.equal(world.appliance.store.db.payments.payments[paymentId]!.status, 'refunded');
  assert.match((await admin.browser.get('/admin/audit?action=payment')).body, /payment\.refunded/);
  const entries = await world.appliance.store.history<AuditRecord>('audit').readAll();
  const entry = entries.find((candidate) => candidate.action === 'payment.refunded');
  assert.ok(entry, 'the refund command wrote its entry');
  assert.deepEqual(entry.actor, { kind: 'user', id: admin.userId, email: admin.email, role: 'admin', ip: '127.0.0.1' });
  assert.equal(entry.target, guest.userId);
  assert.deepEqual([entry.before, entry.after], [{ status: 'paid' }, { status: 'refunded' }]);
  assert.equal(entry.details?.paymentId, paymentId);
});
