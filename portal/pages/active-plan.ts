import { accessSummaryOf } from '../../appliance/quotas/access-summary.js';
import { formatBytes, formatDuration, formatMoment } from './formatting.js';
import type { ContextDeps, GuestContext } from './guest-context.js';

/** The plan the guest may use right now, as the landing and status pages show it; null when none. */
export function activePlanOf(deps: Pick<ContextDeps, 'store' | 'clock'>, context: GuestContext) {
  if (!context.ownerKey) return null;
  const access = accessSummaryOf(deps.store, context.ownerKey, deps.clock.now());
  if (!access) return null;
  return {
    planName: access.planName,
    timeLeft: formatDuration(access.secondsLeft, context.t),
    dataLeft: formatBytes(access.bytesLeft, context.t),
    quotaResets:
      access.quotaResetsAt === null
        ? null
        : formatMoment(access.quotaResetsAt, context.lang, deps.store.db.settings.timeZone),
    ownerKey: context.ownerKey,
  };
}
