import type { Db } from '../../appliance/domain/model.js';
import { denialOf, entitlementOf, type Entitlement } from '../../appliance/entitlements/entitlement.js';
import { sessionAt } from '../../appliance/guest-access/guest-access.js';

/**
 * Whether the client at `ip` may use the network right now: a live session
 * at that address whose subscription still carries it. OS probes and the
 * RFC 8908 API both read this, so they always agree.
 */
export function clientEntitlement(db: Readonly<Db>, ip: string, now: number): Entitlement | null {
  const session = sessionAt(db, ip);
  if (!session || session.disconnectPendingSince !== null) return null;
  const subscription = db.subscriptions[session.subscriptionId];
  if (!subscription) return null;
  const entitlement = entitlementOf(db, subscription, now);
  return entitlement && denialOf(entitlement) === null ? entitlement : null;
}
