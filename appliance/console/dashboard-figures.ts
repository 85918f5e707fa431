import type { Db } from '../domain/model.js';
import type { CollectionSnapshots } from './collection-snapshots.js';

export interface NasRow {
  id: string;
  name: string;
  source: string;
  liveSessions: number;
  lastSeenAt: number | null;
}

/** The day's figures the dashboard opens with; "today" is the box's local day. */
export interface DashboardFigures {
  liveSessions: number;
  signUpsToday: number;
  vouchersRedeemedToday: number;
  /** Paid today, per currency (minor units). */
  revenueToday: Array<{ currency: string; amountMinor: number }>;
  nas: NasRow[];
}

export function startOfLocalDay(now: number): number {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/**
 * NAS clients with their live sessions. "Last seen" is the newest accounting update among its
 * live sessions: the store keeps no per-NAS packet clock, so a NAS without a live session shows none.
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
      lastSeenAt: perNas.get(nas.id)?.last ?? null,
    }));
}

export function dashboardFigures(db: Readonly<Db>, snapshots: CollectionSnapshots, now: number): DashboardFigures {
  const since = startOfLocalDay(now);
  let signUpsToday = 0;
  // Newest first: the walk stops at the first account made before today.
  for (const user of snapshots.list('users')) {
    if (user.createdAt < since) break;
    if (user.role === 'guest') signUpsToday += 1;
  }
  let vouchersRedeemedToday = 0;
  for (const voucher of snapshots.list('vouchers')) {
    if (voucher.firstUsedAt !== null && voucher.firstUsedAt >= since) vouchersRedeemedToday += 1;
  }
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
