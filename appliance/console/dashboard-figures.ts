import type { Db } from '../domain/model.js';

/** The day's figures the dashboard opens with; "today" is the box's local day. */
export interface DashboardFigures {
  liveSessions: number;
  signUpsToday: number;
  vouchersRedeemedToday: number;
  /** Paid minus refunded today, per currency (minor units). */
  revenueToday: Array<{ currency: string; amountMinor: number }>;
  nas: Array<{ id: string; name: string; source: string; liveSessions: number; lastSeenAt: number | null }>;
}

export function startOfLocalDay(now: number): number {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/**
 * One pass over each collection. NAS "last seen" is the newest accounting update among its live
 * sessions: the store keeps no per-NAS packet clock, so a NAS with no live session shows none.
 */
export function dashboardFigures(db: Readonly<Db>, now: number): DashboardFigures {
  const since = startOfLocalDay(now);
  let signUpsToday = 0;
  for (const user of Object.values(db.users)) if (user.role === 'guest' && user.createdAt >= since) signUpsToday += 1;
  let vouchersRedeemedToday = 0;
  for (const voucher of Object.values(db.vouchers)) {
    if (voucher.firstUsedAt !== null && voucher.firstUsedAt >= since) vouchersRedeemedToday += 1;
  }
  const revenue = new Map<string, number>();
  for (const payment of Object.values(db.payments.payments)) {
    if (payment.updatedAt < since || (payment.status !== 'paid' && payment.status !== 'refunded')) continue;
    if (payment.status === 'paid')
      revenue.set(payment.currency, (revenue.get(payment.currency) ?? 0) + payment.amountMinor);
  }
  const perNas = new Map<string, { live: number; last: number }>();
  let liveSessions = 0;
  for (const session of Object.values(db.sessions)) {
    liveSessions += 1;
    if (session.nasId === null) continue;
    const entry = perNas.get(session.nasId) ?? { live: 0, last: 0 };
    entry.live += 1;
    entry.last = Math.max(entry.last, session.lastUpdateAt);
    perNas.set(session.nasId, entry);
  }
  return {
    liveSessions,
    signUpsToday,
    vouchersRedeemedToday,
    revenueToday: [...revenue].map(([currency, amountMinor]) => ({ currency, amountMinor })),
    nas: Object.values(db.nasClients)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((nas) => ({
        id: nas.id,
        name: nas.name,
        source: nas.source,
        liveSessions: perNas.get(nas.id)?.live ?? 0,
        lastSeenAt: perNas.get(nas.id)?.last ?? null,
      })),
  };
}
