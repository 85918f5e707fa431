import type { ErrorCode } from '../../shared/errors.js';
import type { Subscription } from '../domain/model.js';
import { entitlementWith, ownerKeyOf, type Entitlement } from '../entitlements/entitlement.js';
import { bestSubscriptionAmong } from './best-subscription.js';
import type { IndexSource } from './collection-index.js';
import { sessionIndexesOf } from './session-indexes.js';

/**
 * Entitlements as pages, API calls and captive probes ask for them, once per request: the owner's
 * subscriptions and live sessions come from the store's indexes. Counting live sessions by walking
 * them made the sessions list quadratic (20,000 sessions, 400 million visits) and every probe a walk.
 */

/** What a subscription allows now, with its owner's live sessions counted. */
export function entitlementOf(source: IndexSource, subscription: Subscription, now: number): Entitlement | null {
  const live = sessionIndexesOf(source).sessionsByOwner.lookup(source.db, ownerKeyOf(subscription)).length;
  return entitlementWith(source.db, subscription, now, live);
}

/**
 * The owner's usable subscription with the most time left (unlimited first), or the reason none
 * is usable: the choice RADIUS makes (`bestSubscriptionAmong`). Device limits are the caller's,
 * which knows whether the device already holds a session.
 */
export function activeEntitlementFor(
  source: IndexSource,
  ownerKey: string,
  now: number,
): { entitlement: Entitlement } | { denial: ErrorCode } {
  const db = source.db;
  const found = bestSubscriptionAmong(db, sessionIndexesOf(source).subscriptionsByOwner.lookup(db, ownerKey), now);
  if ('denial' in found) return found;
  const entitlement = entitlementOf(source, found.subscription, now);
  return entitlement ? { entitlement } : { denial: 'TP_ERR_ENTITLEMENT_EXPIRED' };
}
