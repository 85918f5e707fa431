import type { Db, Session } from '../domain/model.js';
import { auditIn, SYSTEM } from '../accounts/audit.js';
import { nasTrustIn } from '../nas/nas-trust.js';
import type { HistoryWriter } from '../store/store.js';
import type { EndReason, EnforcementAction } from './enforcement-decision.js';

/**
 * A NAS that answers Disconnect-ACK and keeps the session running ("acks but keeps forwarding") is
 * caught by its own accounting: an Interim-Update or Stop showing the session alive well after the
 * ACK. The disconnect is then retried a bounded number of times with doubling waits; what the NAS
 * did is counted per NAS and written to the audit log. Everything here is O(1) on the session the
 * accounting write already holds.
 */

/** An update the NAS built before it saw our request may arrive just after the ACK; that is not ignoring it. */
export const ACK_GRACE_MS = 5_000;
export const MAX_DISCONNECT_RETRIES = 3;
/** First wait before a retry after the first one (sent at once); doubles each time. */
export const RETRY_BACKOFF_MS = 30_000;

export interface IgnoredDisconnectReport {
  sessionId: string;
  nasId: string;
  acctSessionId: string | null;
  ackedAt: number;
  /** When the NAS says the session was still running (its start plus Acct-Session-Time, else arrival). */
  runningAt: number;
}

/**
 * Checks one accounting update against an acknowledged disconnect of its session (inside the
 * accounting mutation). Returns what the NAS did when it kept forwarding, else null.
 */
export function noteAccountingAfterAck(
  db: Db,
  session: Session,
  sessionTime: number | null,
  now: number,
): IgnoredDisconnectReport | null {
  const acked = session.disconnectAcked;
  if (!acked) return null;
  const runningAt = sessionTime === null ? now : session.startedAt + sessionTime * 1000;
  if (runningAt <= acked.at + ACK_GRACE_MS) return null;
  session.disconnectAcked = null;
  session.ignoredDisconnect ??= { reason: acked.reason, detectedAt: now, retries: 0, nextRetryAt: now };
  if (session.nasId) {
    const trust = nasTrustIn(db, session.nasId, now);
    trust.acksButKeepsForwarding += 1;
    trust.updatedAt = now;
  }
  return {
    sessionId: session.id,
    nasId: session.nasId ?? '',
    acctSessionId: session.acctSessionId,
    ackedAt: acked.at,
    runningAt,
  };
}

/**
 * The retry of an ignored disconnect that is due now, if any; taking it counts it and sets the
 * next one (inside a mutation). Null when none is due or the retries are spent.
 */
export function takeDueRetry(session: Session, now: number): EnforcementAction | null {
  const ignored = session.ignoredDisconnect;
  if (!ignored || ignored.nextRetryAt === null || ignored.nextRetryAt > now) return null;
  const retries = ignored.retries + 1;
  // Replaced rather than changed in place: accounting changes the session as a copy (`rowToChange`).
  session.ignoredDisconnect = {
    ...ignored,
    retries,
    nextRetryAt: retries >= MAX_DISCONNECT_RETRIES ? null : now + RETRY_BACKOFF_MS * 2 ** (retries - 1),
  };
  return { action: 'disconnect', sessionId: session.id, reason: ignored.reason as EndReason };
}

/** Whether a retry is due, without taking it (for a sweep's read-only look before it writes). */
export function retryIsDue(session: Session, now: number): boolean {
  const next = session.ignoredDisconnect?.nextRetryAt;
  return next !== undefined && next !== null && next <= now;
}

/** The audit entry for an ignored disconnect, in the accounting write that saw it: the system saw it, the NAS is the object. */
export function auditIgnoredDisconnectIn(
  histories: HistoryWriter,
  report: IgnoredDisconnectReport,
  nasName: string | null,
  at: number,
): void {
  auditIn(histories, at, SYSTEM, {
    action: 'nas.acks-but-keeps-forwarding',
    target: report.nasId,
    details: {
      nas: nasName,
      sessionId: report.sessionId,
      acctSessionId: report.acctSessionId,
      ackedAt: report.ackedAt,
      runningAt: report.runningAt,
    },
  });
}
