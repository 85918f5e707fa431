import type { Db, Session } from '../domain/model.js';
import type { AccountingResult } from '../sessions/accounting.js';
import { peekRow } from '../store/staged-mutation.js';
import { isEmptyUsage, type UsageFact } from './rollups.js';

/** A live session's counters just before an accounting update is applied. */
export interface PriorCounters {
  inputOctets: number;
  outputOctets: number;
}

export function priorCountersOf(db: Readonly<Db>, sessionId: string | null): PriorCounters | null {
  const session = sessionId === null ? undefined : peekRow(db.sessions, sessionId);
  return session ? { inputOctets: session.inputOctets, outputOctets: session.outputOctets } : null;
}

/**
 * What one accounting update added to its session, for the report rollups: the growth of each
 * counter since the previous update (a counter that went back, as after a NAS restart, adds
 * nothing, as in charging), the plan and guest it counts for, and whether it opened the session.
 * Null when the update bound no session (unknown guest, capped, a Stop for one already closed), or
 * added nothing (an Interim-Update without traffic): its line stays as it was, and no row is written.
 */
export function usageFactOf(
  db: Readonly<Db>,
  sessionId: string | null,
  prior: PriorCounters | null,
  applied: AccountingResult,
): UsageFact | null {
  if (sessionId === null) return null;
  let after: Session | null = applied.session?.id === sessionId ? applied.session : null;
  let reused = false;
  for (const closed of applied.closed) {
    if (closed.id !== sessionId) continue;
    if (closed.reason === 'stop') after = closed;
    else reused = true;
  }
  if (!after) return null;
  const base = reused ? null : prior;
  const fact: UsageFact = {
    inOctets: Math.max(0, after.inputOctets - (base?.inputOctets ?? 0)),
    outOctets: Math.max(0, after.outputOctets - (base?.outputOctets ?? 0)),
    planId: peekRow(db.subscriptions, after.subscriptionId)?.planId ?? null,
    ownerKey: after.ownerKey,
    opened: base === null,
  };
  return isEmptyUsage(fact) ? null : fact;
}
