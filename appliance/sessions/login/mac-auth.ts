import { normalizeMac } from '../../entitlements/entitlement.js';
import { deny, type LoginDecision, type LoginMechanism } from './login-mechanism.js';

let lastName = '';
let lastMac: string | null = null;

/**
 * The MAC a user name spells, or null. 12 hex digits plus up to five separators: anything else is
 * not worth normalising. `claims` and `authenticate` ask for the same name back to back, so the
 * last answer is kept (normalising twice cost a third of a MAC login).
 */
function macNamed(userName: string): string | null {
  if (userName.length < 12 || userName.length > 17) return null;
  if (userName !== lastName) {
    lastMac = normalizeMac(userName);
    lastName = userName;
  }
  return lastMac;
}

/**
 * MAC authentication of a remembered device: the NAS sends the device's MAC as the user name
 * (CoovaChilli's macauth, MikroTik's login-by mac), and the device's owner logs in.
 */
export const macAuth: LoginMechanism = {
  name: 'mac',

  claims: (request) => macNamed(request.userName) !== null,

  authenticate(request, context): LoginDecision {
    const mac = macNamed(request.userName);
    // The NAS vouches for the MAC it saw; a typed-in MAC of someone else's device must not pass.
    if (mac === null || request.mac !== mac) return deny('mac', 'TP_ERR_INVALID_CREDENTIALS');
    const db = context.store.db;
    let latest: { ownerKey: string; lastSeenAt: number } | null = null;
    for (const id of context.indexes.devicesByMac.lookup(db, mac)) {
      const device = db.devices[id]!;
      if (latest === null || device.lastSeenAt > latest.lastSeenAt) latest = device;
    }
    if (latest === null) return deny('mac', 'TP_ERR_INVALID_CREDENTIALS');
    return context.loginAs('mac', latest.ownerKey, request);
  },
};
