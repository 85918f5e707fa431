import type { Clock } from '../../shared/clock.js';
import type { Db, Subscription } from '../domain/model.js';
import { normalizeMac, ownerKeyOf } from '../entitlements/entitlement.js';
import { bindDeviceIn, ownerDeviceWithMac } from '../devices/devices.js';
import { TurnpikeError } from '../../shared/errors.js';
import { rollRedemptionIn } from '../reports/rollups.js';
import { peekDocument, peekRow } from '../store/staged-mutation.js';
import type { HistoryWriter, Store } from '../store/store.js';
import { auditIn } from '../accounts/audit.js';
import { sessionIndexesOf, type SessionIndexes } from '../sessions/session-indexes.js';
import { grantIn } from '../subscriptions/subscriptions.js';
import { topUpIn } from '../subscriptions/top-up.js';
import { normalizeCode } from './codes.js';

export interface RedeemInput {
  code: string;
  /** The device's MAC (any notation), or null when unknown. */
  mac: string | null;
  /** The portal's device id from a signed cookie, when present. */
  deviceId?: string | null;
  /** A top-up: the redeemer's running subscription the voucher's data is added to, instead of one of its own. */
  topUpOf?: { subscriptionId: string; ownerKey: string };
}

/** The voucher's subscription, found through the store's index: a RADIUS login redeems, so this runs per packet. */
function voucherSubscription(db: Readonly<Db>, indexes: SessionIndexes, code: string): Subscription | undefined {
  for (const id of indexes.subscriptionsByOwner.lookup(db, `voucher:${code}`)) {
    const subscription = peekRow(db.subscriptions, id)!;
    if (subscription.voucherCode === code && subscription.userId === null) return subscription;
  }
  return undefined;
}

/** The audit action a spent use of a voucher code is recorded under. */
export const VOUCHER_REDEEMED = 'voucher.redeemed';

export interface RedemptionDetails {
  batchId: string;
  planId: string;
  mac: string | null;
}

/** A redemption is the guest's own act, anonymous until the code is theirs; its entry goes with the redemption's write. */
function auditRedemptionIn(histories: HistoryWriter, at: number, code: string, details: RedemptionDetails): void {
  auditIn(
    histories,
    at,
    { kind: 'anonymous', ip: null },
    { action: VOUCHER_REDEEMED, target: code, details: { ...details } },
  );
}

/**
 * Redeems a voucher for a device and returns the voucher's subscription.
 * The first use starts the clock. A device that already redeemed the code
 * (same MAC, or same device cookie under a new random MAC) gets the same
 * subscription back without spending a use; any other device spends one,
 * and is refused once a single-use code is spent or a multi-use code has
 * reached `maxUses`.
 */
export async function redeemVoucher(store: Store, clock: Clock, input: RedeemInput): Promise<Subscription> {
  const code = normalizeCode(input.code);
  const mac = input.mac === null ? null : normalizeMac(input.mac);
  if (input.mac !== null && mac === null)
    throw new TurnpikeError('TP_ERR_VALIDATION', `mac: ${input.mac} is not a MAC address`);
  const indexes = sessionIndexesOf(store);
  return store.update((db, histories) => {
    const now = clock.now();
    // Rows read whole, never changed in place (the voucher is written back as a copy): peeked, not drafted.
    const voucher = peekRow(db.vouchers, code);
    const batch = voucher ? peekRow(db.voucherBatches, voucher.batchId) : undefined;
    const plan = voucher ? peekRow(db.plans, voucher.planId) : undefined;
    if (!voucher || !batch || !plan || voucher.revokedAt !== null || batch.revokedAt !== null) {
      throw new TurnpikeError('TP_ERR_VOUCHER_INVALID');
    }
    const ownerKey = `voucher:${code}`;
    const existing = voucherSubscription(db, indexes, code);
    const cookieDevice = input.deviceId ? peekRow(db.devices, input.deviceId) : undefined;
    const knownDevice =
      (cookieDevice && cookieDevice.ownerKey === ownerKey) || ownerDeviceWithMac(store, db, ownerKey, mac) !== null;
    const bind = { ownerKey, mac, deviceId: input.deviceId ?? null };
    const topUp = input.topUpOf;
    if (topUp) {
      const target = peekRow(db.subscriptions, topUp.subscriptionId);
      if (!target || ownerKeyOf(target) !== topUp.ownerKey)
        throw new TurnpikeError('TP_ERR_NOT_FOUND', `no subscription ${topUp.subscriptionId}`);
      if (plan.quotaBytes === null || plan.recurring)
        throw new TurnpikeError('TP_ERR_VALIDATION', 'That voucher adds no data to a running plan');
    }
    if (existing && knownDevice && !topUp) {
      bindDeviceIn(store, db, now, bind);
      return existing;
    }
    if (voucher.uses === 0 && (now < batch.validFrom || now >= batch.validUntil)) {
      throw new TurnpikeError('TP_ERR_VOUCHER_INVALID', 'That voucher code is not valid at this time');
    }
    const limit = batch.multiUse ? batch.maxUses : 1;
    if (limit !== null && voucher.uses >= limit) throw new TurnpikeError('TP_ERR_VOUCHER_USED');
    db.vouchers[code] = { ...voucher, uses: voucher.uses + 1, firstUsedAt: voucher.firstUsedAt ?? now };
    // The audit line is the redemption's record, from which `turnpike reports rebuild` recounts it.
    auditRedemptionIn(histories, now, code, { batchId: batch.id, planId: plan.id, mac });
    rollRedemptionIn(db.reports, now, peekDocument(db, 'settings').timeZone, batch.id, plan.id);
    if (topUp) {
      // Spent on the redeemer's own subscription: no device is bound to the voucher's owner.
      if (topUpIn(db, now, topUp.subscriptionId, plan) === 0)
        throw new TurnpikeError('TP_ERR_CONFLICT', 'The plan to add data to has ended');
      return db.subscriptions[topUp.subscriptionId]!;
    }
    bindDeviceIn(store, db, now, bind);
    return existing ?? grantIn(db, now, { userId: null, voucherCode: code, plan, source: 'voucher', sourceRef: code });
  });
}
