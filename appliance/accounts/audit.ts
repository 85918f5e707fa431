import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Db, Role } from '../domain/model.js';
import type { HistoryWriter, Store } from '../store/store.js';

/**
 * Who caused a change. A signed-in person carries their email and role as they were at the time
 * (the audit log must still say "admin ada@…" after Ada is demoted or deleted); `system` is the box
 * itself or root at its CLI, `scheduler` a periodic job.
 */
export type Actor =
  | { kind: 'user'; id: string; email: string; role: Role; ip: string | null }
  | { kind: 'anonymous'; ip: string | null }
  | { kind: 'system' }
  | { kind: 'scheduler' };

export const SYSTEM: Actor = Object.freeze({ kind: 'system' });
export const SCHEDULER: Actor = Object.freeze({ kind: 'scheduler' });

export interface AuditRecord {
  at: number;
  action: string;
  actor: Actor;
  /** The actor's user id, or null for the anonymous, the system and the scheduler (what filters match). */
  actorId: string | null;
  /** The object: a user id, plan id, NAS id, voucher code, `settings`, or the email typed at a failed login. */
  target: string | null;
  ip: string | null;
  /** The object as it was and as it became, where the change has a before and an after. */
  before?: unknown;
  after?: unknown;
  details?: Record<string, unknown>;
}

/** What a command says about its change; the writer adds the time and the actor's fields. */
export interface AuditChange {
  action: string;
  target: string | null;
  before?: unknown;
  after?: unknown;
  details?: Record<string, unknown>;
}

/** The actor for a user id as the store knows them now; an unknown or absent id is anonymous. */
export function userActor(db: Readonly<Db>, userId: string | null, ip: string | null): Actor {
  const user = userId === null ? undefined : db.users[userId];
  return user ? { kind: 'user', id: user.id, email: user.email, role: user.role, ip } : { kind: 'anonymous', ip };
}

/** The one place an audit line is made: inside the mutation whose change it records, so both land or neither. */
export function auditIn(histories: HistoryWriter, at: number, actor: Actor, change: AuditChange): void {
  const record: AuditRecord = {
    at,
    action: change.action,
    actor,
    actorId: actor.kind === 'user' ? actor.id : null,
    target: change.target,
    ip: actor.kind === 'user' || actor.kind === 'anonymous' ? actor.ip : null,
    ...(change.before !== undefined ? { before: change.before } : {}),
    ...(change.after !== undefined ? { after: change.after } : {}),
    ...(change.details !== undefined ? { details: change.details } : {}),
  };
  histories.append('audit', record);
}

/** An account event as the auth flows name it: who by user id (null: nobody signed in). */
export interface AuditEntry {
  action: string;
  actorId: string | null;
  target: string | null;
  ip: string | null;
  details?: Record<string, unknown>;
}

/**
 * Account events that change no record of their own (a failed sign-in, a resent mail) are written
 * as a mutation of their own through `auditIn`. A failed write is logged and never fails the
 * sign-in that caused it.
 */
export function createAuditTrail(options: { store: Store; clock: Clock; logger: Logger }) {
  return async (entry: AuditEntry): Promise<void> => {
    try {
      await options.store.update((db, histories) => {
        const { action, target, details } = entry;
        auditIn(histories, options.clock.now(), userActor(db, entry.actorId, entry.ip), {
          action,
          target,
          ...(details !== undefined ? { details } : {}),
        });
      });
    } catch (err) {
      options.logger.error({ err, action: entry.action }, 'audit append failed');
    }
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
