import type { ErrorCode } from '../../shared/errors.js';
import type { Subscription } from '../domain/model.js';
import { entitlementWith, ownerKeyOf, type Entitlement } from '../entitlements/entitlement.js';
import { bestSubscriptionAmong } from './best-subscription.js';
import type { IndexSource } from './collection-index.js';
import { sessionIndexesOf } from './session-indexes.js';

/** Whether a session may run on a subscription now, for this device, or why not. */
export type Admission =
  { entitlement: Entitlement } | { refusal: ErrorCode; deviceLimit?: { maxDevices: number; connected: number } };

/**
 * The one admission rule for a RADIUS login and a gateway connect, in one pass over the owner's
 * live sessions (through the index: a crowd arriving costs each guest its own rows). An unanswered
 * disconnect refuses the owner's next session; the device limit counts the owner's sessions on
 * other devices, and the asking device, known by MAC or address, does not count against itself.
 */
export function admitDevice(
  source: IndexSource,
  subscription: Subscription,
  device: { mac: string | null; ip: string | null },
  now: number,
): Admission {
  const db = source.db;
  let live = 0;
  let others = 0;
  for (const id of sessionIndexesOf(source).sessionsByOwner.lookup(db, ownerKeyOf(subscription))) {
    const session = db.sessions[id]!;
    if (session.disconnectPendingSince !== null) return { refusal: 'TP_ERR_DISCONNECT_PENDING' };
    live += 1;
    if (!(device.mac && session.mac === device.mac) && !(device.ip && session.ip === device.ip)) others += 1;
  }
  const entitlement = entitlementWith(db, subscription, now, live);
  if (!entitlement) return { refusal: 'TP_ERR_ENTITLEMENT_EXPIRED' };
  const maxDevices = entitlement.plan.maxDevices;
  if (others >= maxDevices) return { refusal: 'TP_ERR_DEVICE_LIMIT', deviceLimit: { maxDevices, connected: others } };
  return { entitlement };
}

/** The owner's best usable subscription (`bestSubscriptionAmong`), admitted for this device. */
export function admitOwnerDevice(
  source: IndexSource,
  ownerKey: string,
  device: { mac: string | null; ip: string | null },
  now: number,
): Admission {
  const db = source.db;
  const found = bestSubscriptionAmong(db, sessionIndexesOf(source).subscriptionsByOwner.lookup(db, ownerKey), now);
  if ('denial' in found) return { refusal: found.denial };
  return admitDevice(source, found.subscription, device, now);
}
