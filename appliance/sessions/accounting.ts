import type { Clock } from '../../shared/clock.js';
import type { Db, Session } from '../domain/model.js';
import { denialAt, normalizeMac, ownerKeyOf, quotaOf } from '../entitlements/entitlement.js';
import { rollUsagePeriodIn } from '../quotas/usage-period.js';
import { rollUsageIn, type UsageFact } from '../reports/rollups.js';
import { priorCountersOf, usageFactOf } from '../reports/usage-fact.js';
import { peekDocument, peekRow, rowToChange } from '../store/staged-mutation.js';
import type { Store } from '../store/store.js';
import { bestSubscriptionAmong } from './best-subscription.js';
import { endReasonOf, type EndReason, type EnforcementAction } from './enforcement-decision.js';
import {
  auditIgnoredDisconnectIn,
  noteAccountingAfterAck,
  takeDueRetry,
  type IgnoredDisconnectReport,
} from './ignored-disconnect.js';
import { capVerdict, DEFAULT_SESSION_CAPS, type CappedSession, type SessionCaps } from './session-caps.js';
import { sessionIndexesOf, type SessionIndexes } from './session-indexes.js';

export type AccountingStatus = 'start' | 'interim' | 'stop' | 'accounting-on' | 'accounting-off';

/** One accounting report from a NAS, already decoded by the front door. */
export interface AccountingEvent {
  nasId: string;
  status: AccountingStatus;
  acctSessionId: string | null;
  /** From the Class the Access-Accept bound; null when the NAS echoed none. */
  subscriptionId: string | null;
  mac: string | null;
  /** IPv4 address, else the IPv6 address (Framed-IPv6-Address). */
  ip: string | null;
  /** Framed-IPv6-Address when the client also has an IPv4 address (dual stack). */
  ipv6Address?: string | null;
  /** Framed-IPv6-Prefix and Delegated-IPv6-Prefix, when the NAS sends them. */
  ipv6Prefixes?: string[];
  /** Totals since the session began, Gigawords already folded in. */
  inputOctets: number;
  outputOctets: number;
  sessionTime: number | null;
  terminateCause: number | null;
  interimIntervalSeconds: number;
}

/** Why a session closed: what the NAS reported, or (gateway mode, where the box ends it) why it was ended. */
export type CloseReason =
  'stop' | 'nas-reboot' | 'stale' | 'nas-lost-session' | 'device-limit' | 'session-id-reused' | EndReason;

export interface ClosedSession extends Session {
  closedAt: number;
  reason: CloseReason;
  terminateCause: number | null;
}

export interface AccountingResult {
  /** The live session after the event; null when it closed or could not be bound. */
  session: Session | null;
  closed: ClosedSession[];
  chargedBytes: number;
  /** Sessions to end or throttle now (quota crossed, plan over, a disconnect still unanswered). */
  actions: EnforcementAction[];
  /** Sessions the caps closed or kept from opening (the Accounting-Request is still acknowledged). */
  capped: CappedSession[];
  /** For an Interim-Update: the time since the session's previous update (the NAS's real cadence). */
  sinceLastUpdateMs?: number;
  /** Set when this update shows the session running on after the NAS acked its disconnect. */
  ignoredDisconnect?: IgnoredDisconnectReport;
}

/** Sessions are keyed by NAS and Acct-Session-Id so that an update finds its session in O(1). */
export function sessionIdOf(nasId: string, acctSessionId: string): string {
  return `${nasId}/${acctSessionId}`;
}

/** Removes a session from current state; its record goes to the 'closed-sessions' history. */
export function closeSessionIn(
  db: Db,
  session: Session,
  now: number,
  reason: CloseReason,
  terminateCause: number | null,
): ClosedSession {
  delete db.sessions[session.id];
  return { ...session, closedAt: now, reason, terminateCause };
}

function bindSubscription(
  db: Readonly<Db>,
  indexes: SessionIndexes,
  event: AccountingEvent,
  now: number,
): { subscriptionId: string; ownerKey: string } | null {
  const fromClass = event.subscriptionId ? peekRow(db.subscriptions, event.subscriptionId) : undefined;
  if (fromClass) return { subscriptionId: fromClass.id, ownerKey: ownerKeyOf(fromClass) };
  if (!event.mac) return null;
  let device: Db['devices'][string] | undefined;
  for (const id of indexes.devicesByMac.lookup(db, event.mac)) {
    const candidate = db.devices[id]!;
    if (!device || candidate.lastSeenAt > device.lastSeenAt) device = candidate;
  }
  if (!device) return null;
  const found = bestSubscriptionAmong(db, indexes.subscriptionsByOwner.lookup(db, device.ownerKey), now);
  return 'subscription' in found ? { subscriptionId: found.subscription.id, ownerKey: device.ownerKey } : null;
}

function openSession(
  db: Db,
  id: string,
  event: AccountingEvent,
  now: number,
  context: AccountingContext,
  result: AccountingResult,
): Session | null {
  const binding = bindSubscription(db, context.indexes, event, now);
  if (!binding) return null;
  const verdict = capVerdict(db, context.indexes, { ...binding, nasId: event.nasId }, context.caps);
  const capped = { sessionId: id, nasId: event.nasId, ownerKey: binding.ownerKey };
  if ('refuse' in verdict) {
    result.capped.push({ cap: verdict.refuse, ...capped });
    return null;
  }
  for (const oldest of verdict.close) {
    result.closed.push(closeSessionIn(db, oldest, now, 'device-limit', null));
    result.capped.push({ cap: 'device-limit', ...capped, sessionId: oldest.id });
  }
  const session: Session = {
    id,
    subscriptionId: binding.subscriptionId,
    ownerKey: binding.ownerKey,
    nasId: event.nasId,
    acctSessionId: event.acctSessionId,
    mode: 'controller',
    mac: event.mac ?? '',
    ip: event.ip,
    ...(event.ipv6Address ? { ipv6Address: event.ipv6Address } : {}),
    ...(event.ipv6Prefixes?.length ? { ipv6Prefixes: event.ipv6Prefixes } : {}),
    startedAt: now - (event.sessionTime ?? 0) * 1000,
    lastUpdateAt: now,
    interimIntervalSeconds: event.interimIntervalSeconds,
    inputOctets: 0,
    outputOctets: 0,
    chargedOctets: 0,
    disconnectPendingSince: null,
  };
  db.sessions[id] = session;
  return session;
}

/**
 * Charges the growth of the session's counters to its subscription; returns bytes charged. The
 * session is the one this update writes; the subscription is changed as a copy (`rowToChange`).
 */
function charge(
  db: Db,
  session: Session,
  event: AccountingEvent,
  now: number,
  actions: EnforcementAction[],
  indexes: SessionIndexes,
): number {
  const total = event.inputOctets + event.outputOctets;
  session.inputOctets = event.inputOctets;
  session.outputOctets = event.outputOctets;
  session.lastUpdateAt = now;
  if (event.ip) session.ip = event.ip;
  if (event.ipv6Address) session.ipv6Address = event.ipv6Address;
  if (event.ipv6Prefixes?.length) session.ipv6Prefixes = event.ipv6Prefixes;
  const delta = total - session.chargedOctets;
  // A NAS whose counters restarted (reboot without Accounting-On) is re-based, never refunded.
  session.chargedOctets = total;
  if (delta <= 0) return 0;
  const subscription = rowToChange(db.subscriptions, session.subscriptionId);
  if (!subscription) return 0;
  const plan = peekRow(db.plans, subscription.planId);
  // Bytes of a new usage period count against that period, even before the reset job has run.
  if (plan) rollUsagePeriodIn(plan, subscription, now, peekDocument(db, 'settings').timeZone);
  const before = subscription.bytesUsed;
  subscription.bytesUsed += delta;
  subscription.updatedAt = now;
  const quota = plan ? quotaOf(plan, subscription) : null;
  if (plan && quota !== null && before < quota && subscription.bytesUsed >= quota) {
    // The quota is shared by every device of the owner: all of its sessions on this subscription react.
    // The owner's sessions from the index, and this one, which may have opened in this very event.
    const owned = indexes.sessionsByOwner.lookup(db, session.ownerKey);
    const ids = owned.includes(session.id) ? owned : [...owned, session.id];
    for (const id of ids) {
      const other = db.sessions[id]!;
      if (other.subscriptionId !== subscription.id) continue;
      actions.push(
        plan.onQuotaExhausted.action === 'throttle'
          ? {
              action: 'throttle',
              sessionId: other.id,
              rate: { upKbps: plan.onQuotaExhausted.upKbps, downKbps: plan.onQuotaExhausted.downKbps },
            }
          : { action: 'disconnect', sessionId: other.id, reason: 'quota-spent' },
      );
    }
  }
  return delta;
}

/** What accounting reads besides the event: the store's indexes and the caps on live sessions. */
export interface AccountingContext {
  indexes: SessionIndexes;
  caps: SessionCaps;
}

/** Whether a Start under a live session's id is that session again (a retransmission), not a new guest. */
function sameGuest(session: Session, event: AccountingEvent): boolean {
  if (event.subscriptionId !== null && event.subscriptionId !== session.subscriptionId) return false;
  const mac = event.mac === null ? null : normalizeMac(event.mac);
  return mac === null || session.mac === '' || mac === normalizeMac(session.mac);
}

/** Applies one accounting event to current state (call inside `store.update`). */
export function applyAccountingIn(
  db: Db,
  event: AccountingEvent,
  now: number,
  context: AccountingContext,
): AccountingResult {
  const result: AccountingResult = { session: null, closed: [], chargedBytes: 0, actions: [], capped: [] };
  if (event.status === 'accounting-on' || event.status === 'accounting-off') {
    for (const id of [...context.indexes.sessionsByNas.lookup(db, event.nasId)]) {
      result.closed.push(closeSessionIn(db, db.sessions[id]!, now, 'nas-reboot', null));
    }
    return result;
  }
  if (event.acctSessionId === null) return result;
  const id = sessionIdOf(event.nasId, event.acctSessionId);
  let existing = peekRow(db.sessions, id);
  if (existing && event.status === 'start' && !sameGuest(existing, event)) {
    // A NAS that rebooted without Accounting-On numbers sessions afresh: this Start is another
    // guest's session under a used id. The old one ends here; the two are never merged.
    result.closed.push(closeSessionIn(db, existing, now, 'session-id-reused', null));
    existing = undefined;
  }
  // A Stop for a session already closed (stale, or the NAS said it was gone) charges nothing twice.
  // Every update changes the session it finds: as a copy, cheaper than a draft on the busiest path.
  const session = existing
    ? rowToChange(db.sessions, id)!
    : event.status === 'stop'
      ? null
      : openSession(db, id, event, now, context, result);
  if (!session) return result;
  if (existing && event.status === 'interim') result.sinceLastUpdateMs = now - existing.lastUpdateAt;
  if (session.disconnectAcked) {
    const ignored = noteAccountingAfterAck(db, session, event.sessionTime, now);
    if (ignored) result.ignoredDisconnect = ignored;
  }
  result.chargedBytes = charge(db, session, event, now, result.actions, context.indexes);
  if (event.status === 'stop') {
    result.closed.push(closeSessionIn(db, session, now, 'stop', event.terminateCause));
    result.actions = result.actions.filter((action) => action.sessionId !== session.id);
    return result;
  }
  result.session = session;
  if (session.ignoredDisconnect) {
    // A disconnect the NAS acked and ignored is retried on its own bounded schedule, not on every update.
    const retry = takeDueRetry(session, now);
    if (retry && !result.actions.some((action) => action.sessionId === session.id)) result.actions.push(retry);
    return result;
  }
  const subscription = peekRow(db.subscriptions, session.subscriptionId);
  const denial = subscription ? denialAt(db, subscription, now) : 'TP_ERR_ENTITLEMENT_EXPIRED';
  const alreadyActing = result.actions.some((action) => action.sessionId === session.id);
  if (!alreadyActing && (denial !== null || session.disconnectPendingSince !== null)) {
    result.actions.push({ action: 'disconnect', sessionId: session.id, reason: endReasonOf(subscription, denial) });
  }
  return result;
}

/** An 'accounting' history line: what the NAS reported, when, and the session it belongs to. */
export interface AccountingLine extends AccountingEvent {
  at: number;
  sessionId: string | null;
}

/** The line as recorded: with what the update added (null: nothing), so the rollups can be rebuilt from the history. */
type RecordedLine = AccountingLine & { usage: UsageFact | null };

function lineOf(event: AccountingEvent, now: number): RecordedLine {
  return {
    at: now,
    ...event,
    sessionId: event.acctSessionId === null ? null : sessionIdOf(event.nasId, event.acctSessionId),
    usage: null,
  };
}

/**
 * Records an accounting event durably; only then may the front door acknowledge. The change to
 * current state and the history lines (the report itself, and the sessions it closed) are fsynced
 * together, each in its own file.
 */
export async function recordAccounting(
  store: Store,
  clock: Clock,
  event: AccountingEvent,
  caps: SessionCaps = DEFAULT_SESSION_CAPS,
): Promise<AccountingResult> {
  const line = lineOf(event, clock.now());
  const context: AccountingContext = { indexes: sessionIndexesOf(store), caps };
  return store.update((db, histories) => {
    const prior = priorCountersOf(db, line.sessionId);
    const applied = applyAccountingIn(db, line, line.at, context);
    const usage = (line.usage = usageFactOf(db, line.sessionId, prior, applied));
    histories.append('accounting', line);
    if (usage) rollUsageIn(db.reports, line.at, peekDocument(db, 'settings').timeZone, line.nasId, usage);
    for (const closed of applied.closed) histories.append('closed-sessions', closed);
    if (applied.ignoredDisconnect) {
      const nasName = db.nasClients[applied.ignoredDisconnect.nasId]?.name ?? null;
      auditIgnoredDisconnectIn(histories, applied.ignoredDisconnect, nasName, line.at);
    }
    return applied;
  });
}
