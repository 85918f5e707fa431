import { answersRadius, isTurnpikeError } from '../../../shared/errors.js';
import { normalizeCode } from '../../vouchers/codes.js';
import { deny, proofMatches, type LoginContext, type LoginDecision, type LoginMechanism } from './login-mechanism.js';

let lastName = '';
let lastCode = '';

/** The stored form of a typed code; `claims` and `authenticate` ask for the same name back to back. */
function codeNamed(userName: string): string {
  if (userName !== lastName) {
    lastCode = normalizeCode(userName);
    lastName = userName;
  }
  return lastCode;
}

/** Whether the voucher's owner already has a device with this MAC: no array of devices built for it. */
function hasDevice(context: LoginContext, mac: string, ownerKey: string): boolean {
  const db = context.store.db;
  for (const id of context.indexes.devicesByMac.lookup(db, mac)) if (db.devices[id]!.ownerKey === ownerKey) return true;
  return false;
}

/**
 * A voucher code typed into the NAS login page, in any case or grouping, as user name and
 * password. The first login from a device redeems it (the guest journey's rules: uses, validity,
 * devices); a device that already did logs in again without a write.
 */
export const voucher: LoginMechanism = {
  name: 'voucher',

  claims: (request, context) => context.store.db.vouchers[codeNamed(request.userName)] !== undefined,

  authenticate(request, context): LoginDecision | Promise<LoginDecision> {
    const code = codeNamed(request.userName);
    if (!proofMatches(request.proof, code) && !proofMatches(request.proof, request.userName))
      return deny('voucher', 'TP_ERR_INVALID_CREDENTIALS');
    const ownerKey = `voucher:${code}`;
    const used = (context.store.db.vouchers[code]?.uses ?? 0) > 0;
    if (used && request.mac !== null && hasDevice(context, request.mac, ownerKey))
      return context.loginAs('voucher', ownerKey, request);
    return context.redeemVoucher(context.store, context.clock, { code, mac: request.mac }).then(
      () => context.loginAs('voucher', ownerKey, request),
      (err: unknown) => {
        // A store that cannot write right now is no answer, not a reject: the NAS retries.
        if (isTurnpikeError(err) && answersRadius(err.code)) return deny('voucher', err.code);
        throw err;
      },
    );
  },
};
