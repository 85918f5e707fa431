import { topUpOfferFor } from '../../appliance/subscriptions/top-up.js';
import { format } from '../i18n/messages.js';
import type { ContextDeps, GuestContext } from './guest-context.js';
import { formatBytes, planCard } from './formatting.js';

/**
 * What the status page offers a guest whose data is spent on a plan that throttles: a voucher to
 * redeem (anyone), and the plans that add data to pay for (a signed-in guest: paying needs an
 * account). Null when nothing is throttled.
 */
export function topUpOfferOf(deps: Pick<ContextDeps, 'store' | 'clock'>, context: GuestContext) {
  if (!context.ownerKey) return null;
  const offer = topUpOfferFor(deps.store, context.ownerKey, deps.clock.now());
  if (!offer) return null;
  const plans = context.userId ? offer.plans : [];
  return {
    subscriptionId: offer.subscriptionId,
    plans: plans.map((plan) => ({
      id: plan.id,
      label: format(context.t.topUpAdd, {
        data: formatBytes(plan.quotaBytes, context.t),
        price: planCard(plan, context.lang, context.t).price,
      }),
    })),
  };
}
