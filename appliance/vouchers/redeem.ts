import type { Clock } from '../clock.js';
import type { Db, Subscription } from '../domain/model.js';
import { normalizeMac } from '../entitlements/entitlement.js';
import { bindDeviceIn } from '../devices/devices.js';
import { TurnpikeError } from '../errors.js';
import type { Store } from '../store/store.js';
import { grantIn } from '../subscriptions/subscriptions.js';
import { normalizeCode } from './codes.js';

export interface RedeemInput {
  code: string;
  /** The device's MAC (any notation), or null when unknown. */
  mac: string | null;
  /** The portal's device id from a signed cookie, when present. */
  deviceId?: string | null;
}

function voucherSubscription(db: Readonly<Db>, code: string): Subscription | undefined {
  return Object.values(db.subscriptions).find((s) => s.voucherCode === code && s.userId === null);
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
  return store.update((db) => {
    const now = clock.now();
    const voucher = db.vouchers[code];
    const batch = voucher ? db.voucherBatches[voucher.batchId] : undefined;
    const plan = voucher ? db.plans[voucher.planId] : undefined;
    if (!voucher || !batch || !plan || voucher.revokedAt !== null || batch.revokedAt !== null) {
      throw new TurnpikeError('TP_ERR_VOUCHER_INVALID');
    }
    const ownerKey = `voucher:${code}`;
    const existing = voucherSubscription(db, code);
    const cookieDevice = input.deviceId ? db.devices[input.deviceId] : undefined;
    const knownDevice =
      (cookieDevice && cookieDevice.ownerKey === ownerKey) ||
      (mac !== null && Object.values(db.devices).some((d) => d.ownerKey === ownerKey && d.mac === mac));
    if (existing && knownDevice) {
      bindDeviceIn(db, now, { ownerKey, mac, deviceId: input.deviceId ?? null });
      return existing;
    }
    if (voucher.uses === 0 && (now < batch.validFrom || now >= batch.validUntil)) {
      throw new TurnpikeError('TP_ERR_VOUCHER_INVALID', 'That voucher code is not valid at this time');
    }
    const limit = batch.multiUse ? batch.maxUses : 1;
    if (limit !== null && voucher.uses >= limit) throw new TurnpikeError('TP_ERR_VOUCHER_USED');
    db.vouchers[code] = { ...voucher, uses: voucher.uses + 1, firstUsedAt: voucher.firstUsedAt ?? now };
    bindDeviceIn(db, now, { ownerKey, mac, deviceId: input.deviceId ?? null });
    return existing ?? grantIn(db, now, { userId: null, voucherCode: code, plan, source: 'voucher', sourceRef: code });
  });
}
