import { publicUser, type PublicUser } from '../accounts/users.js';
import type { Db, Device, Role, Subscription, User } from '../domain/model.js';
import { remainingOf } from '../entitlements/entitlement.js';
import type { Payment } from '../payments/model.js';
import type { CollectionSnapshots } from './collection-snapshots.js';
import { liveSessionsOf, type LiveSessionRow } from './live-sessions.js';
import { pageOf, PER_PAGE, type Page } from './paging.js';
import { PeopleIndex, wordsOf } from './people-index.js';

export interface PeopleFilter {
  /** Words that start words of the email or display name (`ada love` finds ada.lovelace@…). */
  q?: string;
  role?: Role;
  page?: number;
}

/** A page of people; a search whose words are common is not counted to its end, so it says only whether more follow. */
export type PeoplePage = Page<PublicUser> | { items: PublicUser[]; page: number; hasMore: boolean };

const newestFirst = (a: User, b: User): number => b.createdAt - a.createdAt || a.id.localeCompare(b.id);

/**
 * Accounts, newest first; secrets (hashes, TOTP) never leave through `publicUser`. A search reads
 * only the accounts behind its rarest word (the index), or, when every word is common, walks the
 * newest accounts until the page is full: it never tests all 100k accounts for one page.
 */
export function searchPeople(
  db: Readonly<Db>,
  snapshots: CollectionSnapshots,
  index: PeopleIndex,
  filter: PeopleFilter,
): PeoplePage {
  const q = (filter.q ?? '').trim();
  const role = filter.role;
  const pageNumber = Math.max(1, filter.page ?? 1);
  if (q === '') {
    const all = snapshots.list('users');
    const page = pageOf(role ? all.filter((user) => user.role === role) : all, pageNumber);
    return { ...page, items: page.items.map(publicUser) };
  }
  const answer = index.find(q);
  if (answer.kind === 'ids') {
    const found = answer.ids
      .map((id) => db.users[id])
      .filter((user): user is User => user !== undefined && (!role || user.role === role))
      .sort(newestFirst);
    const page = pageOf(found, pageNumber);
    return { ...page, items: page.items.map(publicUser) };
  }
  const words = wordsOf(q);
  const lowered = q.toLowerCase();
  const matches =
    answer.kind === 'common'
      ? (user: User) => PeopleIndex.matches(index.wordsOf(user.id), words)
      : (user: User) => `${user.email}\n${user.displayName}`.toLowerCase().includes(lowered);
  const wanted = pageNumber * PER_PAGE + 1;
  const found: User[] = [];
  for (const user of snapshots.list('users')) {
    if ((!role || user.role === role) && matches(user)) found.push(user);
    if (found.length >= wanted) break;
  }
  const start = (pageNumber - 1) * PER_PAGE;
  return {
    items: found.slice(start, start + PER_PAGE).map(publicUser),
    page: pageNumber,
    hasMore: found.length > start + PER_PAGE,
  };
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
