import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import { assertDeviceAllowance } from '../devices/devices.js';
import type { Db, PortalCredential, User } from '../domain/model.js';
import { activeEntitlementFor, denialOf, entitlementOf, normalizeMac, type Entitlement } from '../entitlements/entitlement.js';
import { isTurnpikeError, type ErrorCode } from '../errors.js';
import type { Store } from '../store/store.js';
import { PasswordCache, type VerifyPassword } from './password-cache.js';
import { redeemVoucherOnFirstUse, type RedeemVoucher } from './voucher-first-use.js';

/** What the NAS proved about the password, without the protocol: PAP cleartext or a CHAP check. */
export type CredentialProof =
  | { kind: 'pap'; password: Buffer }
  | { kind: 'chap'; matches(candidate: Buffer): boolean }
  | { kind: 'none' };

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
  authorize(request: LoginRequest): Promise<LoginDecision>;
}

export interface StoreAccessPolicyOptions {
  store: Store;
  clock: Clock;
  /** bcrypt check with bounded concurrency (the accounts' PasswordHasher.verify). */
  verifyPassword: VerifyPassword;
  passwordCacheSeconds: number;
  /** The guest journey's redemption; defaults to a first-use grant. */
  redeemVoucher?: RedeemVoucher;
}

function proofMatches(proof: CredentialProof, secret: string): boolean {
  const candidate = Buffer.from(secret, 'utf8');
  if (proof.kind === 'chap') return proof.matches(candidate);
  if (proof.kind !== 'pap') return false;
  return proof.password.length === candidate.length && timingSafeEqual(proof.password, candidate);
}

const deny = (method: LoginMethod | 'unknown', code: ErrorCode): LoginDecision => ({ ok: false, method, code });

/**
 * The default policy, reading the store directly. Order: a portal one-time credential, a voucher
 * code, a remembered device's MAC, then an account's email and password (PAP only: bcrypt hashes
 * cannot answer CHAP).
 */
export class StoreAccessPolicy implements AccessPolicy {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #passwords: PasswordCache;
  readonly #redeem: RedeemVoucher;
  #emailIndex = new Map<string, string>();
  #emailIndexBuiltAt = -Infinity;

  constructor(options: StoreAccessPolicyOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#passwords = new PasswordCache({ verify: options.verifyPassword, clock: options.clock, ttlSeconds: options.passwordCacheSeconds });
    this.#redeem = options.redeemVoucher ?? redeemVoucherOnFirstUse;
  }

  async authorize(request: LoginRequest): Promise<LoginDecision> {
    const db = this.#store.db;
    const credential = findPortalCredential(db, request.userName);
    if (credential) return this.#portalCredential(credential, request);
    const voucherCode = findVoucherCode(db, request.userName);
    if (voucherCode) return this.#voucher(voucherCode, request);
    const mac = normalizeMac(request.userName);
    if (mac) return this.#macAuth(mac, request);
    const user = this.#userByEmail(request.userName);
    if (user) return this.#account(user, request);
    return deny('unknown', 'TP_ERR_INVALID_CREDENTIALS');
  }

  async #portalCredential(credential: PortalCredential, request: LoginRequest): Promise<LoginDecision> {
    const now = this.#clock.now();
    if (!proofMatches(request.proof, credential.password)) return deny('portal-credential', 'TP_ERR_INVALID_CREDENTIALS');
    if (credential.usedAt !== null || credential.expiresAt <= now) return deny('portal-credential', 'TP_ERR_TOKEN_INVALID');
    if (request.mac && normalizeMac(credential.mac) !== request.mac) return deny('portal-credential', 'TP_ERR_INVALID_CREDENTIALS');
    const subscription = this.#store.db.subscriptions[credential.subscriptionId];
    const entitlement = subscription ? entitlementOf(this.#store.db, subscription, now) : null;
    if (!entitlement) return deny('portal-credential', 'TP_ERR_ENTITLEMENT_EXPIRED');
    const refused = this.#refusal(entitlement, request);
    if (refused) return deny('portal-credential', refused);
    const spent = await this.#store.update((db) => {
      const current = findPortalCredential(db, credential.username);
      if (!current || current.usedAt !== null) return true;
      current.usedAt = now;
      return false;
    });
    if (spent) return deny('portal-credential', 'TP_ERR_TOKEN_INVALID');
    return { ok: true, method: 'portal-credential', entitlement, mac: request.mac ?? normalizeMac(credential.mac) };
  }

  async #voucher(code: string, request: LoginRequest): Promise<LoginDecision> {
    if (!proofMatches(request.proof, code) && !proofMatches(request.proof, request.userName)) {
      return deny('voucher', 'TP_ERR_INVALID_CREDENTIALS');
    }
    const ownerKey = `voucher:${code}`;
    const voucher = this.#store.db.vouchers[code]!;
    if (voucher.uses === 0) {
      try {
        await this.#redeem(this.#store, this.#clock, { code, mac: request.mac });
      } catch (err) {
        if (isTurnpikeError(err)) return deny('voucher', err.code);
        throw err;
      }
    }
    return this.#ownerLogin('voucher', ownerKey, request);
  }

  #macAuth(mac: string, request: LoginRequest): LoginDecision {
    // The NAS vouches for the MAC it saw; a typed-in MAC of someone else's device must not pass.
    if (request.mac !== mac) return deny('mac', 'TP_ERR_INVALID_CREDENTIALS');
    const device = Object.values(this.#store.db.devices).find((candidate) => candidate.mac === mac);
    if (!device) return deny('mac', 'TP_ERR_INVALID_CREDENTIALS');
    return this.#ownerLogin('mac', device.ownerKey, { ...request, mac });
  }

  async #account(user: User, request: LoginRequest): Promise<LoginDecision> {
    if (request.proof.kind !== 'pap') return deny('password', 'TP_ERR_INVALID_CREDENTIALS');
    const ok = await this.#passwords.check(user.id, user.passwordHash, request.proof.password.toString('utf8'));
    if (!ok) return deny('password', 'TP_ERR_INVALID_CREDENTIALS');
    if (user.disabled) return deny('password', 'TP_ERR_ACCOUNT_DISABLED');
    return this.#ownerLogin('password', `user:${user.id}`, request);
  }

  #ownerLogin(method: LoginMethod, ownerKey: string, request: LoginRequest): LoginDecision {
    const found = activeEntitlementFor(this.#store.db, ownerKey, this.#clock.now());
    if ('denial' in found) return deny(method, found.denial);
    const refused = this.#refusal(found.entitlement, request);
    if (refused) return deny(method, refused);
    return { ok: true, method, entitlement: found.entitlement, mac: request.mac };
  }

  /** Checks that apply to every login: entitlement state, an unanswered disconnect, the device limit. */
  #refusal(entitlement: Entitlement, request: LoginRequest): ErrorCode | null {
    const denial = denialOf(entitlement);
    if (denial) return denial;
    const db = this.#store.db;
    for (const session of Object.values(db.sessions)) {
      if (session.ownerKey === entitlement.ownerKey && session.disconnectPendingSince !== null) return 'TP_ERR_DISCONNECT_PENDING';
    }
    try {
      assertDeviceAllowance(db, { ownerKey: entitlement.ownerKey, maxDevices: entitlement.plan.maxDevices, mac: request.mac, ip: request.ip });
    } catch (err) {
      if (isTurnpikeError(err, 'TP_ERR_DEVICE_LIMIT')) return 'TP_ERR_DEVICE_LIMIT';
      throw err;
    }
    return null;
  }

  #userByEmail(name: string): User | null {
    if (!name.includes('@')) return null;
    const email = name.trim().toLowerCase();
    const users = this.#store.db.users;
    const cachedId = this.#emailIndex.get(email);
    const cached = cachedId === undefined ? undefined : users[cachedId];
    if (cached && cached.email.toLowerCase() === email) return cached;
    // Rebuild at most once a second so that a flood of unknown names stays cheap.
    const now = this.#clock.now();
    if (now - this.#emailIndexBuiltAt < 1000 && cachedId === undefined) return null;
    this.#emailIndex = new Map(Object.values(users).map((user) => [user.email.toLowerCase(), user.id]));
    this.#emailIndexBuiltAt = now;
    const id = this.#emailIndex.get(email);
    return id === undefined ? null : (users[id] ?? null);
  }
}

function findPortalCredential(db: Readonly<Db>, userName: string): PortalCredential | null {
  const direct = db.portalCredentials[userName];
  if (direct && direct.username === userName) return direct;
  for (const credential of Object.values(db.portalCredentials)) if (credential.username === userName) return credential;
  return null;
}

function findVoucherCode(db: Readonly<Db>, userName: string): string | null {
  const trimmed = userName.trim();
  if (db.vouchers[trimmed]) return trimmed;
  const upper = trimmed.toUpperCase();
  return db.vouchers[upper] ? upper : null;
}
