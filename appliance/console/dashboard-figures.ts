import { DateTime } from 'luxon';
import type { Db } from '../domain/model.js';
import { dayKeyOf } from '../reports/day-keys.js';
import type { CollectionSnapshots } from './collection-snapshots.js';

export interface NasRow {
  id: string;
  name: string;
  source: string;
  liveSessions: number;
  lastSeenAt: number | null;
}

/** The day's figures the dashboard opens with; "today" is the venue's day (`settings.timeZone`), as in the reports. */
export interface DashboardFigures {
  liveSessions: number;
  signUpsToday: number;
  vouchersRedeemedToday: number;
  /** Paid today, per currency (minor units). */
  revenueToday: Array<{ currency: string; amountMinor: number }>;
  nas: NasRow[];
}

function startOfVenueDay(now: number, zone: string): number {
  const local = DateTime.fromMillis(now, { zone });
  return (local.isValid ? local : DateTime.fromMillis(now, { zone: 'UTC' })).startOf('day').toMillis();
}

/**
 * NAS clients with their live sessions. "Last seen" is the NAS's last authenticated packet, by any
 * appliance (its trust figures), or else the newest accounting update among its live sessions.
 */
export function nasRows(db: Readonly<Db>, snapshots: CollectionSnapshots): NasRow[] {
  const perNas = new Map<string, { live: number; last: number }>();
  for (const session of snapshots.list('sessions')) {
    if (session.nasId === null) continue;
    const entry = perNas.get(session.nasId) ?? { live: 0, last: 0 };
    entry.live += 1;
    entry.last = Math.max(entry.last, session.lastUpdateAt);
    perNas.set(session.nasId, entry);
  }
  return Object.values(db.nasClients)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((nas) => ({
      id: nas.id,
      name: nas.name,
      source: nas.source,
      liveSessions: perNas.get(nas.id)?.live ?? 0,
      lastSeenAt: db.nasTrust?.[nas.id]?.lastSeenAt ?? perNas.get(nas.id)?.last ?? null,
    }));
}

export function dashboardFigures(db: Readonly<Db>, snapshots: CollectionSnapshots, now: number): DashboardFigures {
  const since = startOfVenueDay(now, db.settings.timeZone);
  const today = dayKeyOf(now, db.settings.timeZone);
  let signUpsToday = 0;
  // Newest first: the walk stops at the first account made before today.
  for (const user of snapshots.list('users')) {
    if (user.createdAt < since) break;
    if (user.role === 'guest') signUpsToday += 1;
  }
  // From the daily rollups (a row per batch and day), not a walk of every code ever printed.
  let vouchersRedeemedToday = 0;
  for (const row of Object.values(db.reports.vouchers)) if (row.day === today) vouchersRedeemedToday += row.redemptions;
  const revenue = new Map<string, number>();
  for (const payment of Object.values(db.payments.payments)) {
    if (payment.status === 'paid' && payment.updatedAt >= since) {
      revenue.set(payment.currency, (revenue.get(payment.currency) ?? 0) + payment.amountMinor);
    }
  }
  return {
    liveSessions: snapshots.list('sessions').length,
    signUpsToday,
    vouchersRedeemedToday,
    revenueToday: [...revenue].map(([currency, amountMinor]) => ({ currency, amountMinor })),
    nas: nasRows(db, snapshots),
  };
}
