import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/store.js';
import { attemptsOf, bump } from './attempt-counters.js';

export type LockoutPolicy = Config['auth']['lockout'];

/** What a failure did: `alert` is true once per window when one account fails from many places. */
export interface FailureOutcome {
  alert: boolean;
  accountFailures: number;
}

const pairKey = (account: string, address: string) => `login:pair:${account}|${address}`;
const addressKey = (address: string) => `login:address:${address}`;
const accountKey = (account: string) => `login:account:${account}`;

/**
 * Failed-login back-off. It never keys a refusal on the account alone — that would let anyone
 * lock anyone out. It backs off per (account, source address), so the address guessing one
 * account waits, and per source address, so one address guessing many accounts waits; the right
 * password from an address that has not been failing is always let through. Failures on one
 * account across addresses only count towards an alert (metric and audit entry).
 *
 * The counters live in the store (`db.attempts`), so appliances sharing a store share them.
 */
export class LoginThrottle {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #policy: LockoutPolicy;
  readonly #maxCounters: number | undefined;

  /** `maxCounters`: how many counters the store keeps at most (default `MAX_ATTEMPT_COUNTERS`). */
  constructor(options: { store: Store; clock: Clock; policy: LockoutPolicy; maxCounters?: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#policy = options.policy;
    this.#maxCounters = options.maxCounters;
  }

  /** Seconds until this account may be tried from this address again; 0 when it may now. */
  retryAfterSeconds(account: string, address: string): number {
    const attempts = this.#store.db.attempts ?? {};
    const now = this.#clock.now();
    const until = Math.max(
      attempts[pairKey(account, address)]?.blockedUntil ?? 0,
      attempts[addressKey(address)]?.blockedUntil ?? 0,
    );
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  async recordFailure(account: string, address: string): Promise<FailureOutcome> {
    const policy = this.#policy;
    const now = this.#clock.now();
    return this.#store.update((db) => {
      const attempts = attemptsOf(db, now, this.#windowMs(), this.#maxCounters);
      bump(attempts, pairKey(account, address), now, policy.freeAttempts, this.#delays());
      bump(attempts, addressKey(address), now, policy.perAddressFreeAttempts, this.#delays());
      const total = bump(attempts, accountKey(account), now, Number.POSITIVE_INFINITY, this.#delays());
      return { alert: total === policy.alertFailures, accountFailures: total };
    });
  }

  /** The pair's record is cleared; the address's stays, so success on one account does not reset guessing others. */
  async recordSuccess(account: string, address: string): Promise<void> {
    if (!this.#store.db.attempts?.[pairKey(account, address)]) return;
    await this.#store.update((db) => {
      if (db.attempts) delete db.attempts[pairKey(account, address)];
    });
  }

  #windowMs(): number {
    return this.#policy.maxDelaySeconds * 1000;
  }

  #delays() {
    return { baseMs: this.#policy.baseDelaySeconds * 1000, maxMs: this.#windowMs() };
  }
}
