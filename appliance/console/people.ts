import { publicUser, type PublicUser } from '../accounts/users.js';
import type { Db, Device, Role } from '../domain/model.js';
import type { Payment } from '../payments/model.js';
import { subscriptionsOf, type SubscriptionStatus } from '../subscriptions/subscriptions.js';
import { liveSessionsOf, type LiveSessionRow } from './live-sessions.js';
import { matchesQuery, pageOf, type Page } from './paging.js';

export interface PeopleFilter {
  /** Searched in email and display name. */
  q?: string;
  role?: Role;
  page?: number;
}

/** Accounts, newest first; secrets (hashes, TOTP) never leave through `publicUser`. */
export function searchPeople(db: Readonly<Db>, filter: PeopleFilter): Page<PublicUser> {
  const q = filter.q ?? '';
  const matching = Object.values(db.users).filter(
    (user) => (!filter.role || user.role === filter.role) && matchesQuery(q, [user.email, user.displayName]),
  );
  matching.sort((a, b) => b.createdAt - a.createdAt || a.email.localeCompare(b.email));
  const page = pageOf(matching, filter.page ?? 1);
  return { ...page, items: page.items.map(publicUser) };
}

/** Everything the front desk needs to answer a person: what they have, use and paid. */
export interface PersonOverview {
  user: PublicUser;
  subscriptions: SubscriptionStatus[];
  devices: Device[];
  sessions: LiveSessionRow[];
  payments: Payment[];
}

export function personOverview(db: Readonly<Db>, userId: string, now: number): PersonOverview | null {
  const user = db.users[userId];
  if (!user) return null;
  const ownerKey = `user:${userId}`;
  return {
    user: publicUser(user),
    subscriptions: subscriptionsOf(db, ownerKey, now),
    devices: Object.values(db.devices)
      .filter((device) => device.ownerKey === ownerKey)
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt),
    sessions: liveSessionsOf(db, ownerKey, now),
    payments: Object.values(db.payments.payments)
      .filter((payment) => payment.userId === userId)
      .sort((a, b) => b.createdAt - a.createdAt),
  };
}
