import type { Db, Session, Subscription } from '../domain/model.js';
import { denialAt } from '../entitlements/entitlement.js';
import type { ErrorCode } from '../../shared/errors.js';

export type EndReason =
  | 'plan-ended'
  | 'quota-spent'
  | 'subscription-cancelled'
  | 'subscription-suspended'
  | 'subscription-gone'
  | 'staff-kick'
  | 'unanswered-disconnect';

export type EnforcementAction =
  | { action: 'disconnect'; sessionId: string; reason: EndReason }
  | { action: 'throttle'; sessionId: string; rate: { upKbps: number; downKbps: number } };

/** Names why a subscription no longer carries a session, for the CoA history and the logs. */
export function endReasonOf(subscription: Subscription | undefined, denial: ErrorCode | null): EndReason {
  if (!subscription) return 'subscription-gone';
  if (subscription.status === 'cancelled') return 'subscription-cancelled';
  if (subscription.status === 'suspended') return 'subscription-suspended';
  if (denial === 'TP_ERR_QUOTA_EXHAUSTED') return 'quota-spent';
  if (denial === null) return 'unanswered-disconnect';
  return 'plan-ended';
}

/** Whether a live session must end now: its plan ran out, its quota is spent, or it was cancelled. */
export function decideEnforcement(db: Readonly<Db>, session: Session, now: number): EnforcementAction | null {
  const subscription = db.subscriptions[session.subscriptionId];
  const denial = subscription ? denialAt(db, subscription, now) : 'TP_ERR_ENTITLEMENT_EXPIRED';
  if (denial === null && session.disconnectPendingSince === null) return null;
  return { action: 'disconnect', sessionId: session.id, reason: endReasonOf(subscription, denial) };
}
