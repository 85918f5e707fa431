import type { Clock } from '../clock.js';
import type { NasClient, Session } from '../domain/model.js';
import { denialOf, entitlementOf } from '../entitlements/entitlement.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { closeSessionIn } from './accounting.js';
import type { EndReason, EnforcementAction } from './enforcement-decision.js';
import { sessionLimitsOf, throttleLimits, type SessionLimits } from './limits.js';

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

/**
 * Ends or throttles live sessions through the NAS. An answered disconnect leaves the session to
 * the NAS's Accounting-Stop; an unanswered one marks `disconnectPendingSince`, which makes the
 * next Access-Request refused and the next Interim-Update ask again. Every attempt is recorded in
 * the 'coa' history.
 */
export class SessionEnforcer {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #port: DynamicAuthorizationPort;
  readonly #logger: Logger;
  readonly #inflight = new Set<string>();

  constructor(options: { store: Store; clock: Clock; port: DynamicAuthorizationPort; logger: Logger }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#port = options.port;
    this.#logger = options.logger;
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

  /** Staff end a session ("kick"). */
  kick(sessionId: string): Promise<EnforcementOutcome> {
    return this.disconnect(sessionId, 'staff-kick');
  }

  /** Ends every live session of a subscription (cancelled, suspended, expired by staff). */
  async endSubscription(subscriptionId: string, reason: EndReason): Promise<EnforcementOutcome[]> {
    const ids = Object.values(this.#store.db.sessions)
      .filter((session) => session.subscriptionId === subscriptionId)
      .map((session) => session.id);
    return Promise.all(ids.map((id) => this.disconnect(id, reason)));
  }

  async disconnect(sessionId: string, reason: EndReason): Promise<EnforcementOutcome> {
    const target = this.#target(sessionId);
    if ('why' in target) return { sessionId, kind: 'disconnect', result: { outcome: 'skipped', why: target.why } };
    if (this.#inflight.has(sessionId))
      return { sessionId, kind: 'disconnect', result: { outcome: 'skipped', why: 'in flight' } };
    this.#inflight.add(sessionId);
    try {
      const result = await this.#port.disconnect(target);
      const now = this.#clock.now();
      const lost = result.outcome === 'nak' && result.errorCause === SESSION_CONTEXT_NOT_FOUND;
      const appends: Array<Promise<void>> = [this.#record('disconnect', target, reason, result, now)];
      await this.#store.update((db) => {
        const session = db.sessions[sessionId];
        if (!session) return;
        if (lost) {
          appends.push(
            this.#store
              .history('closed-sessions')
              .append({ ...closeSessionIn(db, session, now, 'nas-lost-session', null) }),
          );
        } else if (result.outcome === 'ack') {
          session.disconnectPendingSince = null;
        } else {
          session.disconnectPendingSince ??= now;
        }
      });
      await Promise.all(appends);
      return { sessionId, kind: 'disconnect', result };
    } finally {
      this.#inflight.delete(sessionId);
    }
  }

  async throttle(sessionId: string, rate: { upKbps: number; downKbps: number }): Promise<EnforcementOutcome> {
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
   * Gateway-mode sessions have no NAS; the provisioner's reconcile loop re-sends their time.
   */
  async refreshLimits(subscriptionId: string): Promise<EnforcementOutcome[]> {
    const now = this.#clock.now();
    const db = this.#store.db;
    const subscription = db.subscriptions[subscriptionId];
    const entitlement = subscription ? entitlementOf(db, subscription, now) : null;
    const sessions = Object.values(db.sessions).filter(
      (session) => session.subscriptionId === subscriptionId && session.mode === 'controller',
    );
    if (!entitlement || denialOf(entitlement) !== null) {
      return sessions.map((session) => ({
        sessionId: session.id,
        kind: 'coa',
        result: { outcome: 'skipped', why: 'the subscription no longer carries a session' },
      }));
    }
    return Promise.all(
      sessions.map(async (session): Promise<EnforcementOutcome> => {
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
