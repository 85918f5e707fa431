import { publicUser, type PublicUser } from '../accounts/users.js';
import type { Db, Device, Role, Subscription } from '../domain/model.js';
import { remainingOf } from '../entitlements/entitlement.js';
import type { Payment } from '../payments/model.js';
import type { CollectionSnapshots } from './collection-snapshots.js';
import { liveSessionsOf, type LiveSessionRow } from './live-sessions.js';
import { pageOf, type Page } from './paging.js';

export interface PeopleFilter {
  /** Searched in email and display name. */
  q?: string;
  role?: Role;
  page?: number;
}

/** Accounts, newest first; secrets (hashes, TOTP) never leave through `publicUser`. */
export function searchPeople(snapshots: CollectionSnapshots, filter: PeopleFilter): Page<PublicUser> {
  const q = (filter.q ?? '').trim().toLowerCase();
  const all = snapshots.list('users');
  const texts = snapshots.derived('users', 'search', (rows) =>
    rows.map((user) => `${user.email}\n${user.displayName}`.toLowerCase()),
  );
  const matching =
    q === '' && !filter.role
      ? all
      : all.filter((user, i) => (!filter.role || user.role === filter.role) && texts[i]!.includes(q));
  const page = pageOf(matching, filter.page ?? 1);
  return { ...page, items: page.items.map(publicUser) };
}

/** A subscription as the front desk reads it. */
export interface SubscriptionRow {
  subscription: Subscription;
  planName: string;
  secondsLeft: number | null;
  bytesLeft: number | null;
}

/** Everything the front desk needs to answer a person: what they have, use and paid. */
export interface PersonOverview {
  user: PublicUser;
  subscriptions: SubscriptionRow[];
  devices: Device[];
  sessions: LiveSessionRow[];
  payments: Payment[];
}

export function personOverview(
  db: Readonly<Db>,
  snapshots: CollectionSnapshots,
  userId: string,
  now: number,
): PersonOverview | null {
  const user = db.users[userId];
  if (!user) return null;
  const ownerKey = `user:${userId}`;
  return {
    user: publicUser(user),
    subscriptions: snapshots
      .list('subscriptions')
      .filter((subscription) => subscription.userId === userId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((subscription) => {
        const plan = db.plans[subscription.planId];
        return {
          subscription,
          planName: plan?.name ?? '?',
          ...(plan ? remainingOf(plan, subscription, now) : { secondsLeft: null, bytesLeft: null }),
        };
      }),
    devices: snapshots
      .list('devices')
      .filter((device) => device.ownerKey === ownerKey)
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt),
    sessions: liveSessionsOf(db, snapshots, ownerKey, now),
    payments: Object.values(db.payments.payments)
      .filter((payment) => payment.userId === userId)
      .sort((a, b) => b.createdAt - a.createdAt),
  };
}
