import type { Clock } from '../../shared/clock.js';
import type { Subscription } from '../domain/model.js';
import type { Store } from '../store/store.js';
import { redeemVoucher } from '../vouchers/redeem.js';
import { admitDevice, admitOwnerDevice, type Admission } from './device-admission.js';
import {
  deny,
  type LoginContext,
  type LoginDecision,
  type LoginMethod,
  type LoginRequest,
  type RedeemVoucher,
} from './login/login-mechanism.js';
import { LOGIN_MECHANISMS } from './login/login-mechanisms.js';
import { PasswordCache, type VerifyPassword } from './password-cache.js';
import { sessionIndexesOf, type SessionIndexes } from './session-indexes.js';

export type {
  CredentialProof,
  LoginDecision,
  LoginMethod,
  LoginRequest,
  RedeemVoucher,
} from './login/login-mechanism.js';

/** Decides an Access-Request. The RADIUS front door owns the protocol; this owns the rules. */
export interface AccessPolicy {
  /** Synchronous when nothing has to be written or hashed (the hot path), else a promise. */
  authorize(request: LoginRequest): LoginDecision | Promise<LoginDecision>;
}

export interface StoreAccessPolicyOptions {
  store: Store;
  clock: Clock;
  /** bcrypt check with bounded concurrency (the accounts' `PasswordHasher.verify`). */
  verifyPassword: VerifyPassword;
  passwordCacheSeconds: number;
  /** The guest journey's redemption (default `redeemVoucher`). */
  redeemVoucher?: RedeemVoucher;
}

/**
 * What follows a proven identity, the same for every mechanism. Lookups go through the store's
 * indexes (`SessionIndexes`), because this runs per packet.
 */
class StoreLoginContext implements LoginContext {
  readonly store: Store;
  readonly clock: Clock;
  /** Shared with accounting: kept current by the store's changes, never rebuilt because a lookup missed. */
  readonly indexes: SessionIndexes;
  readonly passwords: PasswordCache;
  readonly redeemVoucher: RedeemVoucher;

  constructor(options: StoreAccessPolicyOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.indexes = sessionIndexesOf(options.store);
    this.passwords = new PasswordCache({
      verify: options.verifyPassword,
      clock: options.clock,
      ttlSeconds: options.passwordCacheSeconds,
    });
    this.redeemVoucher = options.redeemVoucher ?? ((store, clock, input) => redeemVoucher(store, clock, input));
  }

  loginAs(method: LoginMethod, ownerKey: string, request: LoginRequest): LoginDecision {
    const admission = admitOwnerDevice(this.store, ownerKey, request, this.clock.now());
    if ('refusal' in admission) return deny(method, admission.refusal);
    return { ok: true, method, entitlement: admission.entitlement, mac: request.mac };
  }

  admit(subscription: Subscription, request: LoginRequest, now: number): Admission {
    return admitDevice(this.store, subscription, request, now);
  }
}

/** The store-backed context the mechanisms run in (the policy's own; tests ask one mechanism at a time). */
export function createLoginContext(options: StoreAccessPolicyOptions): LoginContext {
  return new StoreLoginContext(options);
}

/**
 * The default policy, reading the store: it asks the login mechanisms in `LOGIN_MECHANISMS`'
 * order, and the first that claims the request decides it. A user name none claims is rejected.
 */
export class StoreAccessPolicy implements AccessPolicy {
  readonly #context: LoginContext;

  constructor(options: StoreAccessPolicyOptions) {
    this.#context = createLoginContext(options);
  }

  authorize(request: LoginRequest): LoginDecision | Promise<LoginDecision> {
    for (const mechanism of LOGIN_MECHANISMS)
      if (mechanism.claims(request, this.#context)) return mechanism.authenticate(request, this.#context);
    return deny('unknown', 'TP_ERR_INVALID_CREDENTIALS');
  }
}
