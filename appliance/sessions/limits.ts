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
 * What to tell the NAS. A plan that throttles when its quota is spent gets no data limit from
 * the NAS (the NAS would cut); the appliance sends a CoA with the lower rate instead.
 */
export function sessionLimitsOf(entitlement: Entitlement, interimIntervalSeconds: number): SessionLimits {
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
