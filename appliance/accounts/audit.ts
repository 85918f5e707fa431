import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Store } from '../store/store.js';

export interface AuditRecord {
  at: number;
  action: string;
  /** Who did it (a user id), or null for the anonymous and the system. */
  actorId: string | null;
  /** Whom it concerned: a user id, or the email typed at a failed login. */
  target: string | null;
  ip: string | null;
  details?: Record<string, unknown>;
}

export type AuditEntry = Omit<AuditRecord, 'at'>;

/** Appends to the audit history; a failed append is logged and never fails the caller's action. */
export function createAuditTrail(options: { store: Store; clock: Clock; logger: Logger }) {
  const history = options.store.history<AuditRecord>('audit');
  return async (entry: AuditEntry): Promise<void> => {
    try {
      await history.append({ at: options.clock.now(), ...entry });
    } catch (err) {
      options.logger.error({ err, action: entry.action }, 'audit append failed');
    }
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
