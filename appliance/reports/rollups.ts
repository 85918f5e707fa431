import { peekRow } from '../store/staged-mutation.js';
import { dayKeyOf, hourKeyOf, monthKeyOf } from './day-keys.js';
import { TOP_GUESTS, type ReportsState, type TopGuest, type UsageDimension, type UsageRollup } from './model.js';

/**
 * The rollup rules, one per fact. Each adds one fact to a `ReportsState`: the store's draft
 * inside the mutation that writes the fact, or a plain object while `turnpike reports rebuild`
 * replays the histories — the same rule both times, so the two give the same figures. Each costs
 * a few row lookups, never a scan: an accounting update pays for at most four small rows.
 */

/** What one accounting update added, as recorded on its 'accounting' history line. */
export interface UsageFact {
  /** Octets since the previous update of the session (a counter that restarted adds nothing). */
  inOctets: number;
  outOctets: number;
  planId: string | null;
  ownerKey: string;
  /** This update opened the session. */
  opened: boolean;
}

function addUsage(
  rows: Record<string, UsageRollup>,
  period: string,
  dim: UsageDimension,
  key: string,
  fact: UsageFact,
  split?: { planId: string; nasId: string },
): void {
  const id = `${period}|${dim}|${key}`;
  const row = peekRow(rows, id);
  rows[id] = {
    period,
    dim,
    key,
    ...split,
    inOctets: (row?.inOctets ?? 0) + fact.inOctets,
    outOctets: (row?.outOctets ?? 0) + fact.outOctets,
    sessions: (row?.sessions ?? 0) + (fact.opened ? 1 : 0),
  };
}

/** True when the fact changes no figure (an Interim-Update without traffic): no row is written. */
export function isEmptyUsage(fact: UsageFact): boolean {
  return fact.inOctets === 0 && fact.outOctets === 0 && !fact.opened;
}

export function rollUsageIn(reports: ReportsState, at: number, zone: string, nasId: string, fact: UsageFact): void {
  if (isEmptyUsage(fact)) return;
  const hour = hourKeyOf(at, zone);
  const day = hour.slice(0, 10);
  addUsage(reports.usage, hour, 'hour', '', fact);
  const planId = fact.planId ?? '';
  addUsage(reports.usage, day, 'split', `${planId}|${nasId}`, fact, { planId, nasId });
  const octets = fact.inOctets + fact.outOctets;
  if (octets > 0) rollGuestIn(reports, day, fact.ownerKey, octets);
}

function heavierFirst(a: TopGuest, b: TopGuest): number {
  return b.octets - a.octets || (a.ownerKey < b.ownerKey ? -1 : a.ownerKey > b.ownerKey ? 1 : 0);
}

/**
 * A guest's day total only grows, so the day's top list stays exact by looking at the one guest
 * who grew: a guest once pushed out had no more than the list's last, and comes back only by
 * passing it. The list is sorted, so the guest moves up to its place; no other entry changes.
 */
function rollGuestIn(reports: ReportsState, day: string, ownerKey: string, octets: number): void {
  const known = peekRow(reports.guestDays, ownerKey);
  const total = known && known.day === day ? known.octets + octets : octets;
  reports.guestDays[ownerKey] = { ownerKey, day, octets: total };
  const top = peekRow(reports.topGuests, day);
  if (!top) {
    reports.topGuests[day] = { day, guests: [{ ownerKey, octets: total }] };
    return;
  }
  const guests = top.guests;
  const listed = guests.findIndex((guest) => guest.ownerKey === ownerKey);
  if (listed < 0 && guests.length >= TOP_GUESTS && total <= guests[guests.length - 1]!.octets) return;
  const entry: TopGuest = { ownerKey, octets: total };
  const next: TopGuest[] = [];
  let placed = false;
  for (const guest of guests) {
    if (guest.ownerKey === ownerKey) continue;
    if (!placed && heavierFirst(entry, guest) < 0) {
      next.push(entry);
      placed = true;
    }
    // Entries are never changed in place: the others are kept as they are, not copied.
    next.push(guest);
  }
  if (!placed) next.push(entry);
  reports.topGuests[day] = { day, guests: next.slice(0, TOP_GUESTS) };
}

/** What the revenue rollup reads off an invoice. */
export interface InvoiceFact {
  issuedAt: number;
  currency: string;
  totalMinor: number;
}

function revenueRowOf(reports: ReportsState, invoice: InvoiceFact, planId: string, zone: string) {
  const month = monthKeyOf(invoice.issuedAt, zone);
  const id = `${month}|${planId}|${invoice.currency}`;
  const row = reports.revenue[id];
  if (row) return row;
  reports.revenue[id] = { month, planId, currency: invoice.currency, invoices: 0, grossMinor: 0, refundedMinor: 0 };
  return reports.revenue[id]!;
}

/** An invoice was issued: its total counts in the month of issue. */
export function rollInvoiceIn(reports: ReportsState, invoice: InvoiceFact, planId: string, zone: string): void {
  const row = revenueRowOf(reports, invoice, planId, zone);
  row.invoices += 1;
  row.grossMinor += invoice.totalMinor;
}

/** An invoice was refunded: the refund is set against the month the invoice was issued in. */
export function rollRefundIn(reports: ReportsState, invoice: InvoiceFact, planId: string, zone: string): void {
  revenueRowOf(reports, invoice, planId, zone).refundedMinor += invoice.totalMinor;
}

/** A device spent a use of a voucher code. */
export function rollRedemptionIn(
  reports: ReportsState,
  at: number,
  zone: string,
  batchId: string,
  planId: string,
): void {
  const day = dayKeyOf(at, zone);
  const id = `${day}|${batchId}`;
  const row = reports.vouchers[id];
  if (row) row.redemptions += 1;
  else reports.vouchers[id] = { day, batchId, planId, redemptions: 1 };
}
