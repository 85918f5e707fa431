import type { AuditRecord } from '../accounts/audit.js';
import type { Session } from '../domain/model.js';
import type { AccountingLine } from '../sessions/accounting.js';
import type { HistoryName, Store } from '../store/store.js';

/** One thing that happened to a session, from whichever history recorded it. */
export interface TimelineEvent {
  at: number;
  kind: 'started' | 'accounting' | 'disconnect' | 'coa' | 'staff';
  /** What happened, in the recording history's own words (status, outcome, action). */
  what: string;
  /** Why or with what result: a reason, an error cause, the staff member's id. */
  detail: string;
}

export interface SessionTimeline {
  events: TimelineEvent[];
  /** Each history is read back from its end at most this far; older lines are left out. */
  truncated: boolean;
}

/** Lines read back from the end of each history, at most: a page never scans a year of accounting. */
export const TIMELINE_SCAN_LIMIT = 5_000;

interface CoaLine {
  at: number;
  kind: 'disconnect' | 'coa';
  reason: string;
  sessionId: string;
  outcome: string;
  errorCauseName?: string | null;
}

async function linesOf<T extends { at: number }>(
  store: Store,
  name: HistoryName,
  since: number,
  belongs: (line: T) => boolean,
): Promise<{ lines: T[]; truncated: boolean }> {
  let scanned = 0;
  let truncated = false;
  const read = await store.history<T>(name).readSince((line) => {
    scanned += 1;
    if (scanned > TIMELINE_SCAN_LIMIT) truncated = true;
    return truncated || line.at < since;
  });
  return { lines: read.filter((line) => line.at >= since && belongs(line)), truncated };
}

/** Who did it, as the entry recorded them (entries from before actors were recorded carry only an id). */
export function actorName(line: Pick<AuditRecord, 'actor' | 'actorId'>): string {
  const actor = line.actor as AuditRecord['actor'] | undefined;
  if (actor?.kind === 'user') return actor.email;
  return actor?.kind ?? line.actorId ?? '';
}

/**
 * "Why is this guest offline?" in one list: the session's start, what the NAS reported, each
 * Disconnect or CoA the box sent and its outcome, and what staff did to it, oldest first.
 */
export async function sessionTimeline(store: Store, session: Session): Promise<SessionTimeline> {
  const since = session.startedAt;
  const [accounting, coa, audit] = await Promise.all([
    linesOf<AccountingLine>(store, 'accounting', since, (line) => line.sessionId === session.id),
    linesOf<CoaLine>(store, 'coa', since, (line) => line.sessionId === session.id),
    // Staff act on the session (a kick) or on the subscription it runs on (an extension).
    linesOf<AuditRecord>(
      store,
      'audit',
      since,
      (line) =>
        line.details?.sessionId === session.id ||
        (line.action.startsWith('subscription.') && line.details?.subscriptionId === session.subscriptionId),
    ),
  ]);
  const events: TimelineEvent[] = [
    { at: session.startedAt, kind: 'started', what: session.mode, detail: session.mac },
    ...accounting.lines.map((line) => ({
      at: line.at,
      kind: 'accounting' as const,
      what: line.status,
      detail: line.terminateCause === null ? '' : `Acct-Terminate-Cause ${line.terminateCause}`,
    })),
    ...coa.lines.map((line) => ({
      at: line.at,
      kind: line.kind,
      what: line.outcome,
      detail: [line.reason, line.errorCauseName ?? ''].filter(Boolean).join(' · '),
    })),
    ...audit.lines.map((line) => ({
      at: line.at,
      kind: 'staff' as const,
      what: line.action,
      detail: actorName(line),
    })),
  ];
  events.sort((a, b) => a.at - b.at);
  return { events, truncated: accounting.truncated || coa.truncated || audit.truncated };
}
