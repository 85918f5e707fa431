import type { Db } from '../domain/model.js';
import { dayKeyOf, hoursOfDay, lastDays, lastHours } from '../reports/day-keys.js';
import type { RevenueRollup, UsageRollup } from '../reports/model.js';

/**
 * The reports as the console shows them, read off the rollups in `db.reports`: a page costs a
 * lookup per day shown and one pass over the rows of the plan and NAS dimensions (a few per day),
 * never a history.
 */

export interface ReportRange {
  /** Venue days, `YYYY-MM-DD`, inclusive. */
  from: string;
  to: string;
}

export interface UsagePoint {
  /** A day (`YYYY-MM-DD`) or a UTC hour (`YYYY-MM-DDTHH`). */
  period: string;
  /** Seconds since the epoch of the period's start read as UTC (the venue's wall clock), for a chart's x axis. */
  x: number;
  sessions: number;
  inOctets: number;
  outOctets: number;
}

export interface UsageShare {
  id: string;
  name: string;
  sessions: number;
  inOctets: number;
  outOctets: number;
}

export interface RevenueRow extends RevenueRollup {
  planName: string;
  netMinor: number;
}

export interface RedemptionRow {
  day: string;
  batchId: string;
  batchLabel: string;
  planName: string;
  redemptions: number;
}

export interface TopGuestRow {
  rank: number;
  ownerKey: string;
  /** The guest as staff know them: an email, or the voucher code. */
  label: string;
  /** Link to the guest's page, when they have an account. */
  userId: string | null;
  octets: number;
}

export interface Reports {
  range: ReportRange;
  days: UsagePoint[];
  byPlan: UsageShare[];
  byNas: UsageShare[];
  revenue: RevenueRow[];
  redemptions: RedemptionRow[];
  /** Redemptions per day of the range, for the chart. */
  redemptionsByDay: Array<{ day: string; x: number; redemptions: number }>;
  topDay: string;
  topGuests: TopGuestRow[];
}

/** How many days a report covers at most (a year): bounds the page's work and weight. */
export const MAX_RANGE_DAYS = 366;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const xOf = (period: string): number =>
  Date.parse(period.length === 10 ? `${period}T00:00:00Z` : `${period}:00:00Z`) / 1000;

function isDay(value: unknown): value is string {
  return typeof value === 'string' && DAY.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

/** Every day from `from` to `to`, inclusive. */
export function daysOf(range: ReportRange): string[] {
  const days: string[] = [];
  const end = Date.parse(`${range.to}T00:00:00Z`);
  for (let at = Date.parse(`${range.from}T00:00:00Z`); at <= end; at += 86_400_000) {
    days.push(new Date(at).toISOString().slice(0, 10));
  }
  return days;
}

/** The range asked for, or the last 30 venue days; a range backwards or too long is cut to fit. */
export function reportRangeOf(query: { from?: unknown; to?: unknown }, now: number, zone: string): ReportRange {
  const to = isDay(query.to) ? query.to : dayKeyOf(now, zone);
  const defaultFrom = lastDays(Date.parse(`${to}T12:00:00Z`), 'UTC', 30)[0]!;
  let from = isDay(query.from) ? query.from : defaultFrom;
  if (from > to) from = to;
  const earliest = lastDays(Date.parse(`${to}T12:00:00Z`), 'UTC', MAX_RANGE_DAYS)[0]!;
  if (from < earliest) from = earliest;
  return { from, to };
}

/** A venue hour, or a venue day as the sum of its hours. */
function point(db: Readonly<Db>, period: string): UsagePoint {
  const total: UsagePoint = { period, x: xOf(period), sessions: 0, inOctets: 0, outOctets: 0 };
  for (const hour of period.length === 10 ? hoursOfDay(period) : [period]) {
    const row = db.reports.usage[`${hour}|hour|`];
    if (!row) continue;
    total.sessions += row.sessions;
    total.inOctets += row.inOctets;
    total.outOctets += row.outOctets;
  }
  return total;
}

function sharesOf(
  rows: UsageRollup[],
  keyOf: (row: UsageRollup) => string,
  nameOf: (id: string) => string,
): UsageShare[] {
  const byKey = new Map<string, UsageShare>();
  for (const row of rows) {
    const key = keyOf(row);
    const share = byKey.get(key) ?? { id: key, name: nameOf(key), sessions: 0, inOctets: 0, outOctets: 0 };
    share.sessions += row.sessions;
    share.inOctets += row.inOctets;
    share.outOctets += row.outOctets;
    byKey.set(key, share);
  }
  return [...byKey.values()].sort((a, b) => b.inOctets + b.outOctets - (a.inOctets + a.outOctets));
}

function guestOf(db: Readonly<Db>, ownerKey: string): { label: string; userId: string | null } {
  if (ownerKey.startsWith('user:')) {
    const user = db.users[ownerKey.slice(5)];
    return user ? { label: user.email, userId: user.id } : { label: ownerKey.slice(5), userId: null };
  }
  return { label: ownerKey.startsWith('voucher:') ? ownerKey.slice(8) : ownerKey, userId: null };
}

export function reportsOf(db: Readonly<Db>, range: ReportRange, topDay?: string): Reports {
  const days = daysOf(range);
  const splitRows: UsageRollup[] = [];
  for (const row of Object.values(db.reports.usage)) {
    if (row.dim === 'split' && row.period >= range.from && row.period <= range.to) splitRows.push(row);
  }
  const fromMonth = range.from.slice(0, 7);
  const toMonth = range.to.slice(0, 7);
  const revenue = Object.values(db.reports.revenue)
    .filter((row) => row.month >= fromMonth && row.month <= toMonth)
    .map((row) => ({
      ...row,
      planName: db.plans[row.planId]?.name ?? row.planId,
      netMinor: row.grossMinor - row.refundedMinor,
    }))
    .sort((a, b) => b.month.localeCompare(a.month) || b.netMinor - a.netMinor);
  const redemptions: RedemptionRow[] = [];
  const perDay = new Map<string, number>();
  for (const row of Object.values(db.reports.vouchers)) {
    if (row.day < range.from || row.day > range.to) continue;
    const batch = db.voucherBatches[row.batchId];
    redemptions.push({
      day: row.day,
      batchId: row.batchId,
      batchLabel: batch
        ? [batch.prefix, batch.note].filter(Boolean).join(' · ') || row.batchId.slice(0, 8)
        : row.batchId.slice(0, 8),
      planName: db.plans[row.planId]?.name ?? row.planId,
      redemptions: row.redemptions,
    });
    perDay.set(row.day, (perDay.get(row.day) ?? 0) + row.redemptions);
  }
  redemptions.sort((a, b) => b.day.localeCompare(a.day) || b.redemptions - a.redemptions);
  const shownDay = topDay !== undefined && isDay(topDay) ? topDay : range.to;
  const topGuests = (db.reports.topGuests[shownDay]?.guests ?? []).map((guest, index) => ({
    rank: index + 1,
    ownerKey: guest.ownerKey,
    ...guestOf(db, guest.ownerKey),
    octets: guest.octets,
  }));
  return {
    range,
    days: days.map((day) => point(db, day)),
    byPlan: sharesOf(
      splitRows.filter((row) => row.planId),
      (row) => row.planId!,
      (id) => db.plans[id]?.name ?? id,
    ),
    byNas: sharesOf(
      splitRows,
      (row) => row.nasId ?? '',
      (id) => db.nasClients[id]?.name ?? id,
    ),
    revenue,
    redemptions,
    redemptionsByDay: days.map((day) => ({ day, x: xOf(day), redemptions: perDay.get(day) ?? 0 })),
    topDay: shownDay,
    topGuests,
  };
}

/** The dashboard's two charts: the last 24 hours, hour by hour, and the last 30 venue days. */
export function usageTrends(db: Readonly<Db>, now: number): { hours: UsagePoint[]; days: UsagePoint[] } {
  return {
    hours: lastHours(now, db.settings.timeZone, 24).map((hour) => point(db, hour)),
    days: lastDays(now, db.settings.timeZone, 30).map((day) => point(db, day)),
  };
}
