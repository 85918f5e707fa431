import type { Db, Session } from '../domain/model.js';
import { remainingOf } from '../entitlements/entitlement.js';
import type { CollectionSnapshots } from './collection-snapshots.js';
import { pageOf, type Page } from './paging.js';

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
  const plan = subscription ? db.plans[subscription.planId] : undefined;
  const left = subscription && plan ? remainingOf(plan, subscription, now) : { secondsLeft: null, bytesLeft: null };
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
    planName: plan?.name ?? null,
    ...left,
    disconnectPending: session.disconnectPendingSince !== null,
  };
}

/**
 * Live sessions, newest first, filtered before anything else is computed: a page of 50 out of
 * 20,000 sessions builds 50 rows, not 20,000.
 */
export function searchLiveSessions(
  db: Readonly<Db>,
  snapshots: CollectionSnapshots,
  filter: SessionFilter,
  now: number,
): Page<LiveSessionRow> {
  const q = (filter.q ?? '').trim().toLowerCase();
  const all = snapshots.list('sessions');
  // A session's owner and NAS never change while it lives, so their names may be kept with it.
  const texts = snapshots.derived('sessions', 'search', (rows) =>
    rows.map((session) => {
      const nasName = session.nasId === null ? '' : (db.nasClients[session.nasId]?.name ?? '');
      return [ownerOf(db, session.ownerKey).owner, session.mac, session.ip ?? '', nasName].join('\n').toLowerCase();
    }),
  );
  const matching =
    q === '' && !filter.nasId && !filter.mode
      ? all
      : all.filter(
          (session, i) =>
            (!filter.nasId || session.nasId === filter.nasId) &&
            (!filter.mode || session.mode === filter.mode) &&
            (q === '' || texts[i]!.includes(q)),
        );
  const page = pageOf(matching, filter.page ?? 1);
  return { ...page, items: page.items.map((session) => rowOf(db, session, now)) };
}

export function liveSession(db: Readonly<Db>, id: string, now: number): LiveSessionRow | null {
  const session = db.sessions[id];
  return session ? rowOf(db, session, now) : null;
}

/** The live sessions of one owner (a person's page). */
export function liveSessionsOf(
  db: Readonly<Db>,
  snapshots: CollectionSnapshots,
  ownerKey: string,
  now: number,
): LiveSessionRow[] {
  return snapshots
    .list('sessions')
    .filter((session) => session.ownerKey === ownerKey)
    .map((session) => rowOf(db, session, now));
}
