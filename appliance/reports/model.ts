/**
 * Daily rollups of usage, revenue and voucher redemptions, kept in current state under
 * `db.reports` (schema v8) so that a report page reads a few small rows instead of a history.
 * They are written by the same store mutation as the fact they count (an accounting update, an
 * invoice, a redemption), so they cannot drift from it, and `turnpike reports rebuild` recomputes
 * them from the histories. Hours, days and months are the venue's (`settings.timeZone`).
 */

/**
 * What a usage row counts: the whole box in one venue hour (a day is the sum of its hours), or one
 * plan on one NAS in one venue day (usage by plan, or by NAS, is the sum of those rows).
 */
export type UsageDimension = 'hour' | 'split';

export interface UsageRollup {
  /** `YYYY-MM-DD` (venue day), or `YYYY-MM-DDTHH` (venue hour) for the `hour` dimension. */
  period: string;
  dim: UsageDimension;
  /** `planId|nasId` for `split`; empty for `hour`. */
  key: string;
  /** The plan (empty: a session bound to no plan) and the NAS of a `split` row. */
  planId?: string;
  nasId?: string;
  inOctets: number;
  outOctets: number;
  /** Sessions that started (opened) in the period. */
  sessions: number;
}

/** One guest's traffic on one venue day: enough to keep the day's top list exact. */
export interface GuestDay {
  ownerKey: string;
  day: string;
  octets: number;
}

export interface TopGuest {
  /** A user id, or `voucher:CODE` for a guest who only has a voucher. */
  ownerKey: string;
  octets: number;
}

/** The heaviest guests of one venue day, heaviest first, at most TOP_GUESTS of them. */
export interface TopGuestsDay {
  day: string;
  guests: TopGuest[];
}

export interface RevenueRollup {
  /** `YYYY-MM` of the invoice's issue, venue time. */
  month: string;
  planId: string;
  currency: string;
  invoices: number;
  grossMinor: number;
  /** Of `grossMinor`, what was refunded since (counted in the month the invoice was issued). */
  refundedMinor: number;
}

export interface VoucherRollup {
  day: string;
  batchId: string;
  planId: string;
  /** Uses spent: a device redeeming a code it had not redeemed before. */
  redemptions: number;
}

export interface ReportsState {
  usage: Record<string, UsageRollup>;
  /** By owner key: the guest's traffic on the last day they used any (bounded by the guests there are). */
  guestDays: Record<string, GuestDay>;
  topGuests: Record<string, TopGuestsDay>;
  revenue: Record<string, RevenueRollup>;
  vouchers: Record<string, VoucherRollup>;
}

/** How many guests a day's top list keeps. */
export const TOP_GUESTS = 20;

export function emptyReportsState(): ReportsState {
  return { usage: {}, guestDays: {}, topGuests: {}, revenue: {}, vouchers: {} };
}
