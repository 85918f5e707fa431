import type { Db, Session } from '../domain/model.js';
import type { SessionIndexes } from './session-indexes.js';

export interface SessionCaps {
  /** Live sessions one NAS may hold; a Start beyond it opens none (still acknowledged and logged). */
  maxSessionsPerNas: number;
}

export const DEFAULT_SESSION_CAPS: SessionCaps = { maxSessionsPerNas: 10_000 };

export type SessionCapName = 'device-limit' | 'nas-limit';

/** A session a cap closed or kept from opening, for the count and the (rate-limited) log. */
export interface CappedSession {
  cap: SessionCapName;
  sessionId: string;
  nasId: string;
  ownerKey: string;
}

export type CapVerdict = { refuse: SessionCapName } | { close: Session[] };

/**
 * What must give way before a new session of `ownerKey` opens on `nasId`. A subscription holds
 * at most its plan's device limit of live sessions: beyond it, the least recently updated ones
 * close, as their Stops must have been lost (the RADIUS login already refused a device beyond the
 * limit). A NAS at its cap opens no more sessions: new ones are refused, live guests stay.
 * Reads indexes, never walks the sessions, because this runs for every Start.
 */
export function capVerdict(
  db: Readonly<Db>,
  indexes: SessionIndexes,
  start: { ownerKey: string; subscriptionId: string; nasId: string },
  caps: SessionCaps,
): CapVerdict {
  if (indexes.sessionsByNas.count(start.nasId) >= caps.maxSessionsPerNas) return { refuse: 'nas-limit' };
  const subscription = db.subscriptions[start.subscriptionId];
  const plan = subscription ? db.plans[subscription.planId] : undefined;
  if (!plan) return { close: [] };
  const live = indexes.sessionsByOwner
    .lookup(db, start.ownerKey)
    .map((id) => db.sessions[id]!)
    .filter((session) => session.mode === 'controller');
  const excess = live.length - Math.max(plan.maxDevices, 1) + 1;
  if (excess <= 0) return { close: [] };
  return { close: live.sort((a, b) => a.lastUpdateAt - b.lastUpdateAt || a.startedAt - b.startedAt).slice(0, excess) };
}
