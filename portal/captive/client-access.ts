import { denialOf, type Entitlement } from '../../appliance/entitlements/entitlement.js';
import { entitlementOf } from '../../appliance/sessions/owner-entitlements.js';
import { sessionAt } from '../../appliance/guest-access/guest-access.js';
import type { IndexSource } from '../../appliance/sessions/collection-index.js';

/**
 * Whether the client at `ip` may use the network right now: a live session
 * at that address whose subscription still carries it. OS probes and the
 * RFC 8908 API both read this, so they always agree.
 */
export function clientEntitlement(store: IndexSource, ip: string, now: number): Entitlement | null {
  const db = store.db;
  const session = sessionAt(store, ip);
  if (!session || session.disconnectPendingSince !== null) return null;
  const subscription = db.subscriptions[session.subscriptionId];
  if (!subscription) return null;
  const entitlement = entitlementOf(store, subscription, now);
  return entitlement && denialOf(entitlement) === null ? entitlement : null;
}
