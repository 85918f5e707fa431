import type { Db, Session } from '../domain/model.js';
import { entitlementOf } from '../entitlements/entitlement.js';
import { matchesQuery, pageOf, type Page } from './paging.js';

/** A live session as the console lists it: who, where, how much, what is left. */
export interface LiveSessionRow {
  id: string;
  subscriptionId: string;
  ownerKey: string;
  /** The account's email, or the voucher code of an account-less guest. */
  owner: string;
  userId: string | null;
  mode: Session['mode'];
  nasId: string | null;
  nasName: string | null;
  mac: string;
  ip: string | null;
  startedAt: number;
  lastUpdateAt: number;
  inputOctets: number;
  outputOctets: number;
  planName: string | null;
  secondsLeft: number | null;
  bytesLeft: number | null;
  disconnectPending: boolean;
}

export interface SessionFilter {
  /** Searched in email, voucher code, MAC, IP and NAS name. */
  q?: string;
  nasId?: string;
  mode?: Session['mode'];
  page?: number;
}

/** Who a session's owner key names, in words an operator can search for. */
export function ownerOf(db: Readonly<Db>, ownerKey: string): { owner: string; userId: string | null } {
  if (ownerKey.startsWith('user:')) {
    const userId = ownerKey.slice(5);
    return { owner: db.users[userId]?.email ?? userId, userId };
  }
  return { owner: ownerKey.startsWith('voucher:') ? ownerKey.slice(8) : ownerKey, userId: null };
}

function rowOf(db: Readonly<Db>, session: Session, now: number): LiveSessionRow {
  const subscription = db.subscriptions[session.subscriptionId];
  const entitlement = subscription ? entitlementOf(db, subscription, now) : null;
  return {
    id: session.id,
    subscriptionId: session.subscriptionId,
    ownerKey: session.ownerKey,
    ...ownerOf(db, session.ownerKey),
    mode: session.mode,
    nasId: session.nasId,
    nasName: session.nasId === null ? null : (db.nasClients[session.nasId]?.name ?? null),
    mac: session.mac,
    ip: session.ip,
    startedAt: session.startedAt,
    lastUpdateAt: session.lastUpdateAt,
    inputOctets: session.inputOctets,
    outputOctets: session.outputOctets,
    planName: entitlement?.plan.name ?? null,
    secondsLeft: entitlement?.secondsLeft ?? null,
    bytesLeft: entitlement?.bytesLeft ?? null,
    disconnectPending: session.disconnectPendingSince !== null,
  };
}

/**
 * Live sessions, newest first, filtered before anything else is computed: a page of 50 out of
 * 20,000 sessions builds 50 rows, not 20,000 (entitlements are looked up per row shown).
 */
export function searchLiveSessions(db: Readonly<Db>, filter: SessionFilter, now: number): Page<LiveSessionRow> {
  const q = filter.q ?? '';
  const matching = Object.values(db.sessions).filter((session) => {
    if (filter.nasId && session.nasId !== filter.nasId) return false;
    if (filter.mode && session.mode !== filter.mode) return false;
    if (q === '') return true;
    const nasName = session.nasId === null ? null : (db.nasClients[session.nasId]?.name ?? null);
    return matchesQuery(q, [ownerOf(db, session.ownerKey).owner, session.mac, session.ip, nasName]);
  });
  matching.sort((a, b) => b.startedAt - a.startedAt || a.id.localeCompare(b.id));
  const page = pageOf(matching, filter.page ?? 1);
  return { ...page, items: page.items.map((session) => rowOf(db, session, now)) };
}

export function liveSession(db: Readonly<Db>, id: string, now: number): LiveSessionRow | null {
  const session = db.sessions[id];
  return session ? rowOf(db, session, now) : null;
}

/** The live sessions of one owner (a person's page). */
export function liveSessionsOf(db: Readonly<Db>, ownerKey: string, now: number): LiveSessionRow[] {
  return Object.values(db.sessions)
    .filter((session) => session.ownerKey === ownerKey)
    .sort((a, b) => b.startedAt - a.startedAt)
    .map((session) => rowOf(db, session, now));
}
