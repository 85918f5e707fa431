import { activeEntitlementFor, ownerKeyOf } from '../../appliance/entitlements/entitlement.js';
import { formatBytes, formatDuration } from './formatting.js';
import type { ContextDeps, GuestContext } from './guest-context.js';

/** The plan the guest may use right now, as the landing and status pages show it; null when none. */
export function activePlanOf(deps: Pick<ContextDeps, 'store' | 'clock'>, context: GuestContext) {
  if (!context.ownerKey) return null;
  const found = activeEntitlementFor(deps.store.db, context.ownerKey, deps.clock.now());
  if (!('entitlement' in found)) return null;
  const { entitlement } = found;
  return {
    planName: entitlement.plan.name,
    timeLeft: formatDuration(entitlement.secondsLeft, context.t),
    dataLeft: formatBytes(entitlement.bytesLeft, context.t),
    ownerKey: ownerKeyOf(entitlement.subscription),
  };
}
