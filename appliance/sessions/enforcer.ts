import type { Clock } from '../../shared/clock.js';
import type { NasClient, Session } from '../domain/model.js';
import { denialOf, ownerKeyOf, remainingOf } from '../entitlements/entitlement.js';
import { entitlementOf } from './owner-entitlements.js';
import { sessionIndexesOf } from './session-indexes.js';
import type { Logger } from '../../shared/logger.js';
import type { AccessPort } from '../provisioning/access-port.js';
import type { HistoryWriter, Store } from '../store/store.js';
import { auditIn, SYSTEM, type Actor } from '../accounts/audit.js';
import { closeSessionIn } from './accounting.js';
import type { EndReason, EnforcementAction } from './enforcement-decision.js';
import { firewallGrantOf, sessionLimitsOf, throttleLimits, type SessionLimits } from './limits.js';

export interface DynamicAuthorizationTarget {
  session: Session;
  nas: NasClient;
}

export type DynamicAuthorizationResult =
  | { outcome: 'ack'; attempts: number }
  | { outcome: 'nak'; attempts: number; errorCause: number | null; errorCauseName: string | null }
  | { outcome: 'timeout'; attempts: number };

/** RFC 5176 as the domain sees it; the RADIUS front door implements it. */
export interface DynamicAuthorizationPort {
  disconnect(target: DynamicAuthorizationTarget): Promise<DynamicAuthorizationResult>;
  changeAuthorization(target: DynamicAuthorizationTarget, limits: SessionLimits): Promise<DynamicAuthorizationResult>;
}

/** Why a CoA that is not a throttle was sent: the entitlement grew or changed under a live session. */
export type ChangeReason = 'limits-changed';

/** Error-Cause 503: the NAS has no such session, so ours is a leftover. */
const SESSION_CONTEXT_NOT_FOUND = 503;

export interface EnforcementOutcome {
  sessionId: string;
  kind: 'disconnect' | 'coa';
  result: DynamicAuthorizationResult | { outcome: 'skipped'; why: string };
}

/** Gateway mode's door: the firewall entries the provisioner keeps, and their time for open-ended plans. */
export interface GatewayEnforcement {
  accessPort: AccessPort;
  openEndedSeconds: number;
}

/**
 * The one port through which every cause (kick, expiry, quota spent, refund, suspension, plan
 * extended or throttled) ends or changes a live session, whichever mode enforces it.
 *
 * Controller mode, through the NAS: an answered disconnect leaves the session to the NAS's
 * Accounting-Stop; an unanswered one marks `disconnectPendingSince`, which makes the next
 * Access-Request refused and the next Interim-Update ask again. Every attempt is recorded in the
 * 'coa' history. Gateway mode, through the provisioner: the session is closed in the store first
 * (so the reconcile loop revokes the entry even if this call fails), then its firewall entry is
 * revoked; new limits re-grant the entry.
 */
export class SessionEnforcer {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #port: DynamicAuthorizationPort;
  readonly #logger: Logger;
  readonly #gateway: GatewayEnforcement | null;
  readonly #inflight = new Set<string>();

  constructor(options: {
    store: Store;
    clock: Clock;
    port: DynamicAuthorizationPort;
    logger: Logger;
    gateway?: GatewayEnforcement | null;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#port = options.port;
    this.#logger = options.logger;
    this.#gateway = options.gateway ?? null;
  }

  /** Applies actions from accounting or the sweeper; never throws (failures are logged). */
  async apply(actions: readonly EnforcementAction[]): Promise<EnforcementOutcome[]> {
    const outcomes = await Promise.all(
      actions.map((action) =>
        (action.action === 'disconnect'
          ? this.disconnect(action.sessionId, action.reason)
          : this.throttle(action.sessionId, action.rate)
        ).catch((err: unknown) => {
          this.#logger.error({ err, sessionId: action.sessionId }, 'dynamic authorization failed');
          return null;
        }),
      ),
    );
    return outcomes.filter((outcome): outcome is EnforcementOutcome => outcome !== null);
  }

  /** Staff end a session ("kick"); the audit entry is written with the change the answer makes. */
  async kick(sessionId: string, actor: Actor = SYSTEM): Promise<EnforcementOutcome> {
    const outcome = await this.disconnect(sessionId, 'staff-kick', actor);
    if (outcome.result.outcome === 'skipped') {
      // Nothing changed, but a kick that did nothing is still something staff did.
      const live = this.#store.db.sessions[sessionId];
      await this.#store.update((_db, histories) =>
        auditKick(histories, this.#clock.now(), actor, sessionId, live, outcome.result.outcome, true),
      );
    }
    return outcome;
  }

  /** Ends every live session of a subscription (cancelled, suspended, expired by staff). */
  async endSubscription(subscriptionId: string, reason: EndReason): Promise<EnforcementOutcome[]> {
    const ids = Object.values(this.#store.db.sessions)
      .filter((session) => session.subscriptionId === subscriptionId)
      .map((session) => session.id);
    return Promise.all(ids.map((id) => this.disconnect(id, reason)));
  }

  /** `kickedBy`: the actor of a staff kick, audited in the mutation that records the NAS's answer. */
  async disconnect(sessionId: string, reason: EndReason, kickedBy: Actor | null = null): Promise<EnforcementOutcome> {
    const live = this.#store.db.sessions[sessionId];
    if (live?.mode === 'gateway') return this.#endGatewaySession(live, reason, kickedBy);
    const target = this.#target(sessionId);
    if ('why' in target) return { sessionId, kind: 'disconnect', result: { outcome: 'skipped', why: target.why } };
    if (this.#inflight.has(sessionId))
      return { sessionId, kind: 'disconnect', result: { outcome: 'skipped', why: 'in flight' } };
    this.#inflight.add(sessionId);
    try {
      const result = await this.#port.disconnect(target);
      const now = this.#clock.now();
      const lost = result.outcome === 'nak' && result.errorCause === SESSION_CONTEXT_NOT_FOUND;
      const recorded = this.#record('disconnect', target, reason, result, now);
      const update = this.#store.update((db, histories) => {
        const session = db.sessions[sessionId];
        if (kickedBy) {
          const stillLive = session !== undefined && !lost && result.outcome !== 'ack';
          auditKick(histories, now, kickedBy, sessionId, target.session, result.outcome, stillLive);
        }
        if (!session) return;
        if (lost) {
          histories.append('closed-sessions', closeSessionIn(db, session, now, 'nas-lost-session', null));
        } else if (result.outcome === 'ack') {
          session.disconnectPendingSince = null;
          // Accounting that shows the session going on after this catches a NAS that acks and keeps forwarding.
          session.disconnectAcked = { at: now, reason };
        } else {
          session.disconnectPendingSince ??= now;
        }
      });
      await Promise.all([recorded, update]);
      return { sessionId, kind: 'disconnect', result };
    } finally {
      this.#inflight.delete(sessionId);
    }
  }

  async throttle(sessionId: string, rate: { upKbps: number; downKbps: number }): Promise<EnforcementOutcome> {
    const live = this.#store.db.sessions[sessionId];
    if (live?.mode === 'gateway') return this.#regrantGatewaySession(live);
    const target = this.#target(sessionId);
    if ('why' in target) return { sessionId, kind: 'coa', result: { outcome: 'skipped', why: target.why } };
    const result = await this.#port.changeAuthorization(target, throttleLimits(rate));
    await this.#record('coa', target, 'quota-spent', result, this.#clock.now());
    return { sessionId, kind: 'coa', result };
  }

  /**
   * Tells the NAS the new limits of every live session of a subscription whose entitlement grew
   * or changed (extended, renewed, another plan), so the NAS does not cut the guest at the old
   * Session-Timeout. A NAK or no answer leaves the session alone: the old limits still bound it.
   * Gateway-mode sessions get their firewall entry re-granted with the new time and rates.
   */
  async refreshLimits(subscriptionId: string): Promise<EnforcementOutcome[]> {
    const now = this.#clock.now();
    const db = this.#store.db;
    const subscription = db.subscriptions[subscriptionId];
    const entitlement = subscription ? entitlementOf(this.#store, subscription, now) : null;
    // The subscription's sessions are among its owner's (a subscription deleted under them has no owner to ask).
    const owned = subscription
      ? sessionIndexesOf(this.#store).sessionsByOwner.lookup(db, ownerKeyOf(subscription))
      : [];
    const sessions = owned.map((id) => db.sessions[id]!).filter((session) => session.subscriptionId === subscriptionId);
    if (!entitlement || denialOf(entitlement) !== null) {
      return sessions.map((session) => ({
        sessionId: session.id,
        kind: 'coa',
        result: { outcome: 'skipped', why: 'the subscription no longer carries a session' },
      }));
    }
    return Promise.all(
      sessions.map(async (session): Promise<EnforcementOutcome> => {
        if (session.mode === 'gateway') return this.#regrantGatewaySession(session);
        const target = this.#target(session.id);
        if ('why' in target)
          return { sessionId: session.id, kind: 'coa', result: { outcome: 'skipped', why: target.why } };
        if (session.disconnectPendingSince !== null)
          return { sessionId: session.id, kind: 'coa', result: { outcome: 'skipped', why: 'disconnect pending' } };
        try {
          const limits = sessionLimitsOf(entitlement, session.interimIntervalSeconds);
          const result = await this.#port.changeAuthorization(target, limits);
          if (result.outcome !== 'ack')
            this.#logger.warn(
              { sessionId: session.id, nas: target.nas.name, outcome: result.outcome },
              'the NAS kept the old limits; they still bound the session',
            );
          await this.#record('coa', target, 'limits-changed', result, this.#clock.now());
          return { sessionId: session.id, kind: 'coa', result };
        } catch (err) {
          this.#logger.error({ err, sessionId: session.id }, 'dynamic authorization failed');
          return { sessionId: session.id, kind: 'coa', result: { outcome: 'skipped', why: 'failed' } };
        }
      }),
    );
  }

  async #endGatewaySession(session: Session, reason: EndReason, kickedBy: Actor | null): Promise<EnforcementOutcome> {
    if (!this.#gateway)
      return { sessionId: session.id, kind: 'disconnect', result: { outcome: 'skipped', why: 'gateway mode is off' } };
    const now = this.#clock.now();
    await this.#store.update((db, histories) => {
      const current = db.sessions[session.id];
      if (current) histories.append('closed-sessions', closeSessionIn(db, current, now, reason, null));
      // The session ends here; revoking its firewall entry follows, and the reconcile loop retries it.
      if (kickedBy) auditKick(histories, now, kickedBy, session.id, session, 'closed', false);
    });
    const result = await this.#gateway.accessPort
      .revokeClient({ ip: session.ip ?? '', mac: session.mac, sessionId: session.id })
      .then(
        (): DynamicAuthorizationResult => ({ outcome: 'ack', attempts: 1 }),
        (err: unknown): DynamicAuthorizationResult => {
          this.#logger.warn(
            { err, sessionId: session.id },
            'revoking the firewall entry failed; the reconcile loop removes it',
          );
          return { outcome: 'timeout', attempts: 1 };
        },
      );
    this.#logger.info(
      { kind: 'disconnect', sessionId: session.id, mode: 'gateway', reason, outcome: result.outcome },
      'gateway session ended',
    );
    return { sessionId: session.id, kind: 'disconnect', result };
  }

  async #regrantGatewaySession(session: Session): Promise<EnforcementOutcome> {
    const skipped = (why: string): EnforcementOutcome => ({
      sessionId: session.id,
      kind: 'coa',
      result: { outcome: 'skipped', why },
    });
    if (!this.#gateway) return skipped('gateway mode is off');
    if (session.ip === null) return skipped('the session has no address');
    const db = this.#store.db;
    const subscription = db.subscriptions[session.subscriptionId];
    const plan = subscription && db.plans[subscription.planId];
    if (!subscription || !plan) return skipped('the subscription no longer carries a session');
    const limits = sessionLimitsOf(
      { plan, ...remainingOf(plan, subscription, this.#clock.now()) },
      session.interimIntervalSeconds,
    );
    try {
      await this.#gateway.accessPort.allowClient({
        ip: session.ip,
        mac: session.mac || '00:00:00:00:00:00',
        ...firewallGrantOf(limits, this.#gateway.openEndedSeconds),
        sessionId: session.id,
      });
      return { sessionId: session.id, kind: 'coa', result: { outcome: 'ack', attempts: 1 } };
    } catch (err) {
      this.#logger.warn(
        { err, sessionId: session.id },
        'new firewall limits not applied; the reconcile loop re-sends them',
      );
      return { sessionId: session.id, kind: 'coa', result: { outcome: 'timeout', attempts: 1 } };
    }
  }

  #target(sessionId: string): DynamicAuthorizationTarget | { why: string } {
    const session = this.#store.db.sessions[sessionId];
    if (!session) return { why: 'no such session' };
    const nas = session.nasId ? this.#store.db.nasClients[session.nasId] : undefined;
    if (!nas) return { why: 'session has no NAS (gateway mode is enforced by the provisioner)' };
    return { session, nas };
  }

  #record(
    kind: 'disconnect' | 'coa',
    target: DynamicAuthorizationTarget,
    reason: EndReason | ChangeReason,
    result: DynamicAuthorizationResult,
    at: number,
  ): Promise<void> {
    this.#logger.info(
      { kind, sessionId: target.session.id, nas: target.nas.name, reason, outcome: result.outcome },
      'dynamic authorization',
    );
    return this.#store.history('coa').append({
      at,
      kind,
      reason,
      sessionId: target.session.id,
      acctSessionId: target.session.acctSessionId,
      nasId: target.nas.id,
      nasName: target.nas.name,
      ...result,
    });
  }
}

/** A kick's audit entry: the session was live before; after, it is gone or waits for the NAS. */
function auditKick(
  histories: HistoryWriter,
  at: number,
  actor: Actor,
  sessionId: string,
  session: Session | undefined,
  outcome: string,
  stillLive: boolean,
): void {
  auditIn(histories, at, actor, {
    action: 'session.kicked',
    target: session?.ownerKey ?? null,
    before: { live: session !== undefined },
    after: { live: stillLive },
    details: { sessionId, nasId: session?.nasId ?? null, mac: session?.mac ?? null, outcome },
  });
}
