import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import type { Db } from '../domain/model.js';
import { createPlan } from '../plans/plans.js';
import { tempStore } from '../testing/temp-store.js';
import { settleOneOffIn } from './entitlement-effects.js';
import { renderInvoiceHtml, renderInvoicePdf } from './invoice-render.js';
import { includedTaxMinor } from './invoices.js';
import type { Payment } from './model.js';
import { userRecord } from '../testing/user-record.js';

function pendingPayment(id: string, userId: string, planId: string, now: number): Payment {
  return {
    id,
    userId,
    planId,
    kind: 'one-off',
    amountMinor: 1190,
    currency: 'EUR',
    status: 'pending',
    stripe: { customerId: null, checkoutSessionId: null, paymentIntentId: null, invoiceId: null, subscriptionId: null },
    subscriptionId: null,
    grantedSeconds: 0,
    invoiceNumber: null,
    failureMessage: null,
    createdAt: now,
    updatedAt: now,
  };
}

function addUser(db: Db, id: string, now: number): void {
  db.users[id] = userRecord({ id, displayName: `Guest ${id}` }, now);
}

test('the tax contained in a gross price is computed in integers, rounded half up', () => {
  assert.equal(includedTaxMinor(1190, 19), 190);
  assert.equal(includedTaxMinor(1000, 19), 160); // 159.66 → 160
  assert.equal(includedTaxMinor(107, 7), 7);
  assert.equal(includedTaxMinor(1077, 7.7), 77);
  assert.equal(includedTaxMinor(999, 0), 0);
  assert.equal(includedTaxMinor(Number.MAX_SAFE_INTEGER, 20), Math.round(Number.MAX_SAFE_INTEGER / 6));
});

test('invoice numbers are gap-free and unique across 50 concurrent payments, and restart each year', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock(Date.UTC(2026, 11, 31, 23, 0));
  const plan = await createPlan(store, clock, { name: 'Hour', priceMinor: 1190, durationSeconds: 3600 });
  await store.update((db) => {
    db.settings.seller = {
      name: 'Hotel Example',
      address: 'Main St 1\n12345 Town',
      taxId: 'DE123',
      taxRatePercent: 19,
    };
    for (let i = 0; i < 50; i += 1) {
      addUser(db, `u${i}`, clock.now());
      db.payments.payments[`p${i}`] = pendingPayment(`p${i}`, `u${i}`, plan.id, clock.now());
    }
  });
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      store.update((db) =>
        settleOneOffIn(db, clock.now(), db.payments.payments[`p${i}`]!, {
          paymentIntentId: `pi_${i}`,
          customerId: null,
        }),
      ),
    ),
  );
  const numbers = Object.values(store.db.payments.payments)
    .map((payment) => payment.invoiceNumber!)
    .sort();
  assert.deepEqual(
    numbers,
    Array.from({ length: 50 }, (_, i) => `2026-${String(i + 1).padStart(6, '0')}`),
  );
  assert.equal(store.db.sequences['invoice:2026'], 50);
  const invoice = store.db.payments.invoices['2026-000001']!;
  assert.equal(invoice.totalMinor, 1190);
  assert.equal(invoice.taxMinor, 190);
  assert.equal(invoice.subtotalMinor, 1000);
  assert.equal(invoice.seller.name, 'Hotel Example');

  // A later settings change does not rewrite an issued invoice.
  await store.update((db) => {
    db.settings.seller.name = 'New Owner';
  });
  assert.equal(store.db.payments.invoices['2026-000001']!.seller.name, 'Hotel Example');

  clock.set(Date.UTC(2027, 0, 1, 0, 5));
  await store.update((db) => {
    addUser(db, 'late', clock.now());
    db.payments.payments.late = pendingPayment('late', 'late', plan.id, clock.now());
    settleOneOffIn(db, clock.now(), db.payments.payments.late, { paymentIntentId: 'pi_late', customerId: null });
  });
  assert.equal(store.db.payments.payments.late!.invoiceNumber, '2027-000001');

  // Settling the same payment again issues nothing new.
  await store.update((db) =>
    settleOneOffIn(db, clock.now(), db.payments.payments.late!, { paymentIntentId: 'pi_late', customerId: null }),
  );
  assert.equal(store.db.sequences['invoice:2027'], 1);
});

test('an invoice renders as escaped HTML and as a valid PDF that names its number', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const plan = await createPlan(store, clock, { name: 'Day <pass>', priceMinor: 500, durationSeconds: 86_400 });
  await store.update((db) => {
    addUser(db, 'u1', clock.now());
    db.payments.payments.p1 = pendingPayment('p1', 'u1', plan.id, clock.now());
    settleOneOffIn(db, clock.now(), db.payments.payments.p1, { paymentIntentId: 'pi_1', customerId: null });
  });
  const invoice = store.db.payments.invoices['2026-000001']!;
  const html = renderInvoiceHtml(invoice);
  assert.match(html, /Invoice 2026-000001/);
  assert.match(html, /Day &#60;pass&#62;/);
  assert.doesNotMatch(html, /<pass>/);
  const pdf = await renderInvoicePdf(invoice);
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.match(pdf.subarray(-32).toString('latin1'), /%%EOF\s*$/);
  assert.ok(pdf.toString('latin1').includes('Invoice 2026-000001'), 'the PDF names the invoice number');
});
