import type { Db } from '../domain/model.js';
import { rollInvoiceIn } from '../reports/rollups.js';
import type { Invoice, Payment } from './model.js';

/** The sequence key of a year's invoice numbers in `db.sequences`. */
export function invoiceSequenceKey(year: number): string {
  return `invoice:${year}`;
}

/**
 * The tax contained in a gross amount, rounded half up, in integer arithmetic:
 * tax = gross × rate / (100 + rate), with the rate in basis points.
 */
export function includedTaxMinor(grossMinor: number, taxRatePercent: number): number {
  const rateBp = Math.round(taxRatePercent * 100);
  if (rateBp <= 0) return 0;
  const numerator = BigInt(grossMinor) * BigInt(rateBp) * 2n + BigInt(10_000 + rateBp);
  return Number(numerator / (2n * BigInt(10_000 + rateBp)));
}

/**
 * Issues the invoice for a paid payment (call inside `store.update`). The
 * number and the invoice are written in the same mutation, so numbers never
 * skip: a failed write takes neither.
 */
export function issueInvoiceIn(db: Db, payment: Payment, now: number): Invoice {
  if (payment.invoiceNumber) {
    const existing = db.payments.invoices[payment.invoiceNumber];
    if (existing) return existing;
  }
  const year = new Date(now).getUTCFullYear();
  const key = invoiceSequenceKey(year);
  const next = (db.sequences[key] ?? 0) + 1;
  const number = `${year}-${String(next).padStart(6, '0')}`;
  const seller = { ...db.settings.seller };
  const user = db.users[payment.userId];
  const plan = db.plans[payment.planId];
  const taxMinor = includedTaxMinor(payment.amountMinor, seller.taxRatePercent);
  const invoice: Invoice = {
    number,
    year,
    paymentId: payment.id,
    userId: payment.userId,
    issuedAt: now,
    seller,
    buyer: { name: user?.displayName ?? '', email: user?.email ?? '' },
    lines: [
      {
        description: `${plan?.name ?? payment.planId}${payment.kind === 'recurring' ? ' (subscription period)' : ''}`,
        quantity: 1,
        unitAmountMinor: payment.amountMinor,
        amountMinor: payment.amountMinor,
      },
    ],
    currency: payment.currency,
    subtotalMinor: payment.amountMinor - taxMinor,
    taxMinor,
    totalMinor: payment.amountMinor,
    status: 'paid',
  };
  db.sequences[key] = next;
  db.payments.invoices[number] = invoice;
  rollInvoiceIn(db.reports, invoice, payment.planId, db.settings.timeZone);
  payment.invoiceNumber = number;
  return invoice;
}
