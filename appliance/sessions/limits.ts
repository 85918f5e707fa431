import type { Entitlement } from '../entitlements/entitlement.js';

/** The limits a NAS enforces for one session; null = no limit of that kind. */
export interface SessionLimits {
  sessionTimeout: number | null;
  idleTimeout: number | null;
  interimInterval: number | null;
  upKbps: number | null;
  downKbps: number | null;
  bytesLeft: number | null;
}

/**
 * The one rule from (plan, subscription, now) to a session's limits, whichever enforces them: the
 * RADIUS reply and CoA, the gateway's firewall entry and its reconcile loop. A plan that throttles
 * when its quota is spent gets no data limit (the NAS would cut) but the lower rate once spent.
 */
export function sessionLimitsOf(
  entitlement: Pick<Entitlement, 'plan' | 'secondsLeft' | 'bytesLeft'>,
  interimIntervalSeconds: number,
): SessionLimits {
  const { plan, secondsLeft, bytesLeft } = entitlement;
  const throttles = plan.onQuotaExhausted.action === 'throttle';
  const throttled = throttles && bytesLeft !== null && bytesLeft <= 0;
  const rate = throttled && plan.onQuotaExhausted.action === 'throttle' ? plan.onQuotaExhausted : null;
  return {
    sessionTimeout: secondsLeft,
    idleTimeout: plan.idleTimeoutSeconds,
    interimInterval: interimIntervalSeconds,
    upKbps: rate ? rate.upKbps : plan.bandwidthUpKbps,
    downKbps: rate ? rate.downKbps : plan.bandwidthDownKbps,
    bytesLeft: throttles ? null : bytesLeft,
  };
}

/** Limits carrying only a rate, for a CoA that throttles. */
export function throttleLimits(rate: { upKbps: number; downKbps: number }): SessionLimits {
  return {
    sessionTimeout: null,
    idleTimeout: null,
    interimInterval: null,
    upKbps: rate.upKbps,
    downKbps: rate.downKbps,
    bytesLeft: null,
  };
}

/** What a firewall entry holds: a finite element timeout, and 0 for a rate with no limit. */
export interface FirewallGrant {
  seconds: number;
  upKbps: number;
  downKbps: number;
}

/**
 * The same limits as the gateway enforces them. An nft element needs a timeout: a plan without
 * an end gets `openEndedSeconds`, which the reconcile loop renews before it lapses.
 */
export function firewallGrantOf(limits: SessionLimits, openEndedSeconds: number): FirewallGrant {
  return {
    seconds: Math.max(1, limits.sessionTimeout ?? openEndedSeconds),
    upKbps: limits.upKbps ?? 0,
    downKbps: limits.downKbps ?? 0,
  };
}
