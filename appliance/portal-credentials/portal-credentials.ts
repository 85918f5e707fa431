import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { PortalCredential } from '../domain/model.js';
import { normalizeMac } from '../entitlements/entitlement.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';

/** Long enough for a guest's browser to reach the NAS and the NAS to ask RADIUS. */
export const CREDENTIAL_TTL_MS = 120_000;
/** Marks a username as a portal one-time credential, so RADIUS can route it without a lookup elsewhere. */
export const CREDENTIAL_USERNAME_PREFIX = 'tp-';

/**
 * Mints a one-time RADIUS credential for one NAS login: random username and
 * password, bound to the subscription and the device's MAC, valid two minutes.
 * Expired credentials are swept in the same write.
 */
export async function mintPortalCredential(
  store: Store,
  clock: Clock,
  input: { subscriptionId: string; mac: string | null; ttlMs?: number },
): Promise<PortalCredential> {
  const mac = input.mac === null ? '' : normalizeMac(input.mac);
  if (mac === null) throw new TurnpikeError('TP_ERR_VALIDATION', `mac: ${String(input.mac)} is not a MAC address`);
  return store.update((db) => {
    if (!db.subscriptions[input.subscriptionId]) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'no such subscription');
    const now = clock.now();
    for (const [username, credential] of Object.entries(db.portalCredentials)) {
      if (credential.expiresAt <= now || credential.usedAt !== null) delete db.portalCredentials[username];
    }
    const credential: PortalCredential = {
      username: `${CREDENTIAL_USERNAME_PREFIX}${randomBytes(9).toString('base64url')}`,
      // 16 characters keeps the password inside one MD5 block for PAP-over-UAM.
      password: randomBytes(12).toString('base64url'),
      subscriptionId: input.subscriptionId,
      mac,
      expiresAt: now + (input.ttlMs ?? CREDENTIAL_TTL_MS),
      usedAt: null,
    };
    db.portalCredentials[credential.username] = credential;
    return credential;
  });
}

export interface ConsumeInput {
  username: string;
  /** Calling-Station-Id of the request, any notation; null when the NAS sent none. */
  mac: string | null;
  /** Checks the proof the NAS forwarded (PAP password, CHAP response) against the stored password. */
  verify: (password: string) => boolean;
}

/**
 * Spends a one-time credential: it must exist, be unused, unexpired, from the
 * device it was minted for, and pass `verify`. Any failure is the same
 * TP_ERR_INVALID_CREDENTIALS so that a prober learns nothing. A second use of a
 * spent credential always fails, even with the right password.
 */
export async function consumePortalCredential(
  store: Store,
  clock: Clock,
  input: ConsumeInput,
): Promise<PortalCredential> {
  return store.update((db) => {
    const credential = db.portalCredentials[input.username];
    const now = clock.now();
    const fail = (): never => {
      throw new TurnpikeError('TP_ERR_INVALID_CREDENTIALS', 'The one-time credential is wrong, used or expired');
    };
    if (!credential || credential.usedAt !== null || credential.expiresAt <= now) return fail();
    const mac = input.mac === null ? null : normalizeMac(input.mac);
    if (credential.mac !== '' && mac !== credential.mac) return fail();
    if (!input.verify(credential.password)) return fail();
    const spent = { ...credential, usedAt: now };
    db.portalCredentials[input.username] = spent;
    return spent;
  });
}

/** PAP check in constant time. */
export function papMatches(expected: string, offered: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(offered);
  return a.length === b.length && timingSafeEqual(a, b);
}
