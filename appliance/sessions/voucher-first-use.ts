import type { Clock } from '../clock.js';
import type { Subscription } from '../domain/model.js';
import { TurnpikeError } from '../errors.js';
import type { Store } from '../store/store.js';
import { grantIn } from '../subscriptions/subscriptions.js';

/** The shape of the guest journey's voucher redemption, which a NAS login reuses. */
export type RedeemVoucher = (store: Store, clock: Clock, input: { code: string; mac: string | null }) => Promise<Subscription>;

/**
 * A voucher's first use over RADIUS starts its clock: the subscription is granted now. Used when
 * no guest-journey redemption is wired in; checks revocation, the batch window and use limits.
 */
export const redeemVoucherOnFirstUse: RedeemVoucher = (store, clock, input) =>
  store.update((db) => {
    const now = clock.now();
    const voucher = db.vouchers[input.code];
    const batch = voucher ? db.voucherBatches[voucher.batchId] : undefined;
    const plan = voucher ? db.plans[voucher.planId] : undefined;
    if (!voucher || !batch || !plan || voucher.revokedAt !== null || batch.revokedAt !== null) {
      throw new TurnpikeError('TP_ERR_VOUCHER_INVALID');
    }
    if (now < batch.validFrom || now > batch.validUntil) throw new TurnpikeError('TP_ERR_VOUCHER_INVALID');
    const limit = batch.multiUse ? batch.maxUses : 1;
    if (limit !== null && voucher.uses >= limit) throw new TurnpikeError('TP_ERR_VOUCHER_USED');
    voucher.uses += 1;
    voucher.firstUsedAt ??= now;
    return grantIn(db, now, { userId: null, voucherCode: voucher.code, plan, source: 'voucher', sourceRef: voucher.code });
  });
