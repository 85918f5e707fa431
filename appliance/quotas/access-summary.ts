import type { IndexSource } from '../sessions/collection-index.js';
import { activeEntitlementFor } from '../sessions/owner-entitlements.js';
import { quotaResetsAt } from './usage-period.js';

/** What a guest may still use and when the quota comes back, as every door shows it. */
export interface AccessSummary {
  planName: string;
  /** null = no time limit. */
  secondsLeft: number | null;
  /** null = no data limit. */
  bytesLeft: number | null;
  /** When the data quota is whole again (ms since the epoch); null = not before a renewal. */
  quotaResetsAt: number | null;
}

/** The owner's best usable plan right now, or null when none carries a session. */
export function accessSummaryOf(source: IndexSource, ownerKey: string, now: number): AccessSummary | null {
  const found = activeEntitlementFor(source, ownerKey, now);
  if (!('entitlement' in found)) return null;
  const { plan, subscription, secondsLeft, bytesLeft } = found.entitlement;
  return {
    planName: plan.name,
    secondsLeft,
    bytesLeft,
    quotaResetsAt: quotaResetsAt(plan, subscription, now, source.db.settings.timeZone),
  };
}
