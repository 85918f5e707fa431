import { timingSafeEqual } from 'node:crypto';
import { normaliseEmail } from '../accounts/users.js';
import type { Clock } from '../../shared/clock.js';
import type { Db, PortalCredential, Subscription, User } from '../domain/model.js';
import { entitlementWith, denialAt, normalizeMac, ownerKeyOf, type Entitlement } from '../entitlements/entitlement.js';
import { answersRadius, isTurnpikeError, type ErrorCode } from '../../shared/errors.js';
import { consumePortalCredential } from '../portal-credentials/portal-credentials.js';
import type { Store } from '../store/store.js';
import { normalizeCode } from '../vouchers/codes.js';
import { redeemVoucher } from '../vouchers/redeem.js';
import { bestSubscriptionAmong } from './best-subscription.js';
import { PasswordCache, type VerifyPassword } from './password-cache.js';
import { sessionIndexesOf, type SessionIndexes } from './session-indexes.js';

/** What the NAS proved about the password, without the protocol: PAP cleartext or a CHAP check. */
export type CredentialProof =
  { kind: 'pap'; password: Buffer } | { kind: 'chap'; matches(candidate: Buffer): boolean } | { kind: 'none' };

export interface LoginRequest {
  userName: string;
  proof: CredentialProof;
  /** Calling-Station-Id normalised, or null when absent or not a MAC. */
  mac: string | null;
  ip: string | null;
}

export type LoginMethod = 'portal-credential' | 'voucher' | 'mac' | 'password';

export type LoginDecision =
  | { ok: true; method: LoginMethod; entitlement: Entitlement; mac: string | null }
  | { ok: false; method: LoginMethod | 'unknown'; code: ErrorCode };

/** Decides an Access-Request. The RADIUS front door owns the protocol; this owns the rules. */
export interface AccessPolicy {
  /** Synchronous when nothing has to be written or hashed (the hot path), else a promise. */
  authorize(request: LoginRequest): LoginDecision | Promise<LoginDecision>;
}

export type RedeemVoucher = (
  store: Store,
  clock: Clock,
  input: { code: string; mac: string | null },
) => Promise<Subscription>;

export interface StoreAccessPolicyOptions {
  store: Store;
  clock: Clock;
  /** bcrypt check with bounded concurrency (the accounts' `PasswordHasher.verify`). */
  verifyPassword: VerifyPassword;
  passwordCacheSeconds: number;
  /** The guest journey's redemption (default `redeemVoucher`). */
  redeemVoucher?: RedeemVoucher;
}

function proofMatches(proof: CredentialProof, secret: string): boolean {
  const candidate = Buffer.from(secret, 'utf8');
  if (proof.kind === 'chap') return proof.matches(candidate);
  if (proof.kind !== 'pap') return false;
  return proof.password.length === candidate.length && timingSafeEqual(proof.password, candidate);
}

const deny = (method: LoginMethod | 'unknown', code: ErrorCode): LoginDecision => ({ ok: false, method, code });
/** 12 hex digits plus up to five separators: anything else is not worth normalising as a MAC. */
const mayBeMac = (name: string): boolean => name.length >= 12 && name.length <= 17;

/**
 * The default policy, reading the store directly. Order: a portal one-time credential, a voucher
 * code, a remembered device's MAC, then an account's email and password (PAP only: bcrypt hashes
 * cannot answer CHAP). Lookups go through the store's indexes (`SessionIndexes`), because this runs per packet.
 */
export class StoreAccessPolicy implements AccessPolicy {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #passwords: PasswordCache;
  readonly #redeem: RedeemVoucher;
  /** Shared with accounting: kept current by the store's changes, never rebuilt because a lookup missed. */
  readonly #indexes: SessionIndexes;

  constructor(options: StoreAccessPolicyOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#indexes = sessionIndexesOf(options.store);
    this.#passwords = new PasswordCache({
      verify: options.verifyPassword,
      clock: options.clock,
      ttlSeconds: options.passwordCacheSeconds,
    });
    this.#redeem = options.redeemVoucher ?? ((store, clock, input) => redeemVoucher(store, clock, input));
  }

  authorize(request: LoginRequest): LoginDecision | Promise<LoginDecision> {
    const db = this.#store.db;
    const credential = db.portalCredentials[request.userName];
    if (credential) return this.#portalCredential(credential, request);
    const code = normalizeCode(request.userName);
    if (db.vouchers[code]) return this.#voucher(code, request);
    const mac = mayBeMac(request.userName) ? normalizeMac(request.userName) : null;
    if (mac) return this.#macAuth(mac, request);
    const user = this.#userByEmail(request.userName);
    if (user) return this.#account(user, request);
    return deny('unknown', 'TP_ERR_INVALID_CREDENTIALS');
  }

  async #portalCredential(credential: PortalCredential, request: LoginRequest): Promise<LoginDecision> {
    const now = this.#clock.now();
    if (!proofMatches(request.proof, credential.password))
      return deny('portal-credential', 'TP_ERR_INVALID_CREDENTIALS');
    // Only the holder of the right password learns that the credential is spent or stale.
    if (credential.usedAt !== null || credential.expiresAt <= now)
      return deny('portal-credential', 'TP_ERR_TOKEN_INVALID');
    const subscription = this.#store.db.subscriptions[credential.subscriptionId];
    const denial = subscription ? denialAt(this.#store.db, subscription, now) : 'TP_ERR_ENTITLEMENT_EXPIRED';
    if (!subscription || denial) return deny('portal-credential', denial ?? 'TP_ERR_ENTITLEMENT_EXPIRED');
    const checked = this.#sessionChecks(subscription, request, now);
    if ('refusal' in checked) return deny('portal-credential', checked.refusal);
    try {
      await consumePortalCredential(this.#store, this.#clock, {
        username: credential.username,
        mac: request.mac,
        verify: (password) => proofMatches(request.proof, password),
      });
    } catch (err) {
      // A store that cannot write right now is no answer, not a reject: the NAS retries.
      if (isTurnpikeError(err) && answersRadius(err.code)) return deny('portal-credential', err.code);
      throw err;
    }
    return { ok: true, method: 'portal-credential', entitlement: checked.entitlement, mac: request.mac };
  }

  #voucher(code: string, request: LoginRequest): LoginDecision | Promise<LoginDecision> {
    if (!proofMatches(request.proof, code) && !proofMatches(request.proof, request.userName)) {
      return deny('voucher', 'TP_ERR_INVALID_CREDENTIALS');
    }
    const ownerKey = `voucher:${code}`;
    const db = this.#store.db;
    // A device that already redeemed this code logs in without a write; any other goes through redemption.
    const known = db.vouchers[code]!.uses > 0 && request.mac !== null && this.#hasDevice(request.mac, ownerKey);
    if (known) return this.#ownerLogin('voucher', ownerKey, request);
    return this.#redeem(this.#store, this.#clock, { code, mac: request.mac }).then(
      () => this.#ownerLogin('voucher', ownerKey, request),
      (err: unknown) => {
        if (isTurnpikeError(err) && answersRadius(err.code)) return deny('voucher', err.code);
        throw err;
      },
    );
  }

  #macAuth(mac: string, request: LoginRequest): LoginDecision {
    // The NAS vouches for the MAC it saw; a typed-in MAC of someone else's device must not pass.
    if (request.mac !== mac) return deny('mac', 'TP_ERR_INVALID_CREDENTIALS');
    const devices = this.#devicesOf(mac);
    if (devices.length === 0) return deny('mac', 'TP_ERR_INVALID_CREDENTIALS');
    const latest = devices.reduce((a, b) => (b.lastSeenAt > a.lastSeenAt ? b : a));
    return this.#ownerLogin('mac', latest.ownerKey, request);
  }

  #account(user: User, request: LoginRequest): LoginDecision | Promise<LoginDecision> {
    if (request.proof.kind !== 'pap') return deny('password', 'TP_ERR_INVALID_CREDENTIALS');
    const verdict = this.#passwords.check(user.id, user.passwordHash, request.proof.password.toString('utf8'));
    return typeof verdict === 'boolean'
      ? this.#afterPassword(verdict, user, request)
      : verdict.then((ok) => this.#afterPassword(ok, user, request));
  }

  #afterPassword(ok: boolean, user: User, request: LoginRequest): LoginDecision {
    if (!ok) return deny('password', 'TP_ERR_INVALID_CREDENTIALS');
    if (user.disabled) return deny('password', 'TP_ERR_ACCOUNT_DISABLED');
    return this.#ownerLogin('password', `user:${user.id}`, request);
  }

  #ownerLogin(method: LoginMethod, ownerKey: string, request: LoginRequest): LoginDecision {
    const now = this.#clock.now();
    const found = this.#bestSubscription(ownerKey, now);
    if ('denial' in found) return deny(method, found.denial);
    const checked = this.#sessionChecks(found.subscription, request, now);
    if ('refusal' in checked) return deny(method, checked.refusal);
    return { ok: true, method, entitlement: checked.entitlement, mac: request.mac };
  }

  #bestSubscription(ownerKey: string, now: number): { subscription: Subscription } | { denial: ErrorCode } {
    const db = this.#store.db;
    return bestSubscriptionAmong(db, this.#indexes.subscriptionsByOwner.lookup(db, ownerKey), now);
  }

  /**
   * One pass over live sessions: an unanswered disconnect refuses the owner's next login, and
   * the device limit counts the owner's other devices (the asking device, by MAC or address,
   * does not count against itself, as in `assertDeviceAllowance`).
   */
  #sessionChecks(
    subscription: Subscription,
    request: LoginRequest,
    now: number,
  ): { entitlement: Entitlement } | { refusal: ErrorCode } {
    const db: Readonly<Db> = this.#store.db;
    const ownerKey = ownerKeyOf(subscription);
    let live = 0;
    let others = 0;
    const ids = this.#indexes.sessionsByOwner.lookup(db, ownerKey);
    for (const id of ids) {
      const session = db.sessions[id]!;
      if (session.disconnectPendingSince !== null) return { refusal: 'TP_ERR_DISCONNECT_PENDING' };
      live += 1;
      if (!(request.mac && session.mac === request.mac) && !(request.ip && session.ip === request.ip)) others += 1;
    }
    const entitlement = entitlementWith(db, subscription, now, live);
    if (!entitlement) return { refusal: 'TP_ERR_ENTITLEMENT_EXPIRED' };
    if (others >= entitlement.plan.maxDevices) return { refusal: 'TP_ERR_DEVICE_LIMIT' };
    return { entitlement };
  }

  #devicesOf(mac: string): Array<Db['devices'][string]> {
    const db = this.#store.db;
    return this.#indexes.devicesByMac.lookup(db, mac).map((id) => db.devices[id]!);
  }

  /** Whether `ownerKey` already has a device with this MAC: no array of devices built for it. */
  #hasDevice(mac: string, ownerKey: string): boolean {
    const db = this.#store.db;
    for (const id of this.#indexes.devicesByMac.lookup(db, mac)) if (db.devices[id]!.ownerKey === ownerKey) return true;
    return false;
  }

  #userByEmail(name: string): User | null {
    if (!name.includes('@')) return null;
    const db = this.#store.db;
    const id = this.#indexes.usersByEmail.lookup(db, normaliseEmail(name))[0];
    return id === undefined ? null : db.users[id]!;
  }
}
