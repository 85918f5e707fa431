import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../shared/clock.js';
import type { ErrorCode } from '../../../shared/errors.js';
import type { Subscription } from '../../domain/model.js';
import type { Entitlement } from '../../entitlements/entitlement.js';
import type { Store } from '../../store/store.js';
import type { PasswordCache } from '../password-cache.js';
import type { SessionIndexes } from '../session-indexes.js';
import type { Admission } from '../device-admission.js';

/** What the NAS proved about the password, without the protocol: PAP cleartext or a CHAP check. */
export type CredentialProof =
  { kind: 'pap'; password: Buffer } | { kind: 'chap'; matches(candidate: Buffer): boolean } | { kind: 'none' };

/** An Access-Request as the domain sees it: no packet, no UDP, no secret. */
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

export type RedeemVoucher = (
  store: Store,
  clock: Clock,
  input: { code: string; mac: string | null },
) => Promise<Subscription>;

/**
 * What every mechanism may use: the store and its per-packet indexes, and the steps that follow
 * a proven identity (which subscription, whether another session fits), which are the same for all.
 */
export interface LoginContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly indexes: SessionIndexes;
  /** bcrypt verdicts, remembered briefly (never one bcrypt per packet). */
  readonly passwords: PasswordCache;
  readonly redeemVoucher: RedeemVoucher;
  /** The subscription's session checks: an unanswered disconnect, the plan's device limit. */
  admit(subscription: Subscription, request: LoginRequest, now: number): Admission;
  /** The owner's best usable subscription, admitted: how a proven voucher, device or account logs in. */
  loginAs(method: LoginMethod, ownerKey: string, request: LoginRequest): LoginDecision;
}

/**
 * One way to log in, as a FreeRADIUS `rlm_*` module is: it says whether a request is its own
 * (FreeRADIUS's "noop" when not), and if so decides it. `claims` is a lookup only, never a
 * write; `authenticate` is synchronous unless it has to write or hash.
 */
export interface LoginMechanism {
  readonly name: LoginMethod;
  claims(request: LoginRequest, context: LoginContext): boolean;
  authenticate(request: LoginRequest, context: LoginContext): LoginDecision | Promise<LoginDecision>;
}

/** Checks a proof against a secret the store holds, in constant time for PAP. */
export function proofMatches(proof: CredentialProof, secret: string): boolean {
  const candidate = Buffer.from(secret, 'utf8');
  if (proof.kind === 'chap') return proof.matches(candidate);
  if (proof.kind !== 'pap') return false;
  return proof.password.length === candidate.length && timingSafeEqual(proof.password, candidate);
}

export function deny(method: LoginMethod | 'unknown', code: ErrorCode): LoginDecision {
  return { ok: false, method, code };
}
