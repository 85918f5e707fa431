import type { AuditRecord } from '../accounts/audit.js';
import { findUserByEmail } from '../accounts/users.js';
import type { Store } from '../store/store.js';
import { PER_PAGE } from './paging.js';

export interface AuditFilter {
  /** A user id or email; the actor must be exactly this user. */
  actor?: string;
  /** An action, or its family: `session` matches `session.kicked`. */
  action?: string;
  /** Part of the object's id, email or voucher code. */
  target?: string;
  /** Inclusive bounds, ms since the epoch. */
  from?: number;
  to?: number;
  page?: number;
}

export interface AuditPage {
  entries: AuditRecord[];
  page: number;
  hasMore: boolean;
}

function matcherOf(store: Store, filter: AuditFilter): (record: AuditRecord) => boolean {
  const actor = filter.actor?.trim();
  const actorId = actor ? (store.db.users[actor]?.id ?? findUserByEmail(store, actor)?.id ?? actor) : null;
  const action = filter.action?.trim() ?? '';
  const target = filter.target?.trim().toLowerCase() ?? '';
  return (record) =>
    (actorId === null || record.actorId === actorId) &&
    (action === '' || record.action === action || record.action.startsWith(`${action}.`)) &&
    (target === '' || (record.target ?? '').toLowerCase().includes(target)) &&
    (filter.from === undefined || record.at >= filter.from) &&
    (filter.to === undefined || record.at <= filter.to);
}

/**
 * Newest first, one page at a time. The history is read backwards from its end and only as far
 * as the page needs, so the newest entries of a year-long log come as fast as those of a day.
 */
export async function readAudit(store: Store, filter: AuditFilter): Promise<AuditPage> {
  const page = Math.max(1, Number.isSafeInteger(filter.page) ? filter.page! : 1);
  const matches = matcherOf(store, filter);
  const wanted = page * PER_PAGE + 1;
  let found = 0;
  const read = await store.history<AuditRecord>('audit').readSince((record) => {
    if (found >= wanted) return true;
    if (matches(record)) found += 1;
    return false;
  });
  const matching = read.filter(matches).reverse();
  const start = (page - 1) * PER_PAGE;
  return { entries: matching.slice(start, start + PER_PAGE), page, hasMore: matching.length > start + PER_PAGE };
}
