import type { Clock } from '../../shared/clock.js';
import { TurnpikeError } from '../../shared/errors.js';
import { attemptsOf, bump } from '../accounts/attempt-counters.js';
import type { Store } from '../store/store.js';

export interface GuessLimiterOptions {
  /** Failures allowed per key before back-off starts. */
  freeFailures: number;
  baseDelayMs: number;
  /** The longest wait; a key idle this long starts again from nothing. */
  maxDelayMs: number;
  /** Counters the store keeps at most (shared with sign-in back-off); default `MAX_ATTEMPT_COUNTERS`. */
  maxCounters?: number;
}

export const DEFAULT_GUESS_LIMITS: GuessLimiterOptions = {
  freeFailures: 5,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
};

const counterKey = (key: string) => `voucher:${key}`;

/**
 * Back-off for voucher-code guessing, kept per key (client address and MAC, so that a guest
 * cannot escape by changing only one of them). Each failure past the free ones doubles the wait;
 * a success clears the keys.
 *
 * The counters are the store's attempt counters, beside sign-in back-off: appliances sharing a
 * store share them, so a guesser gains nothing by landing on another box, and their number is
 * capped the same way (a flood of made-up MACs never frees an address still being held back).
 */
export class GuessLimiter {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #options: GuessLimiterOptions;

  constructor(options: { store: Store; clock: Clock; limits?: Partial<GuessLimiterOptions> }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#options = { ...DEFAULT_GUESS_LIMITS, ...options.limits };
  }

  /** Throws TP_ERR_RATE_LIMITED (with `retryAfterSeconds`) while any key is backing off. */
  assertAllowed(keys: readonly string[]): void {
    const attempts = this.#store.db.attempts ?? {};
    const now = this.#clock.now();
    const until = Math.max(0, ...keys.map((key) => attempts[counterKey(key)]?.blockedUntil ?? 0));
    if (until <= now) return;
    const retryAfterSeconds = Math.ceil((until - now) / 1000);
    throw new TurnpikeError('TP_ERR_RATE_LIMITED', `Too many wrong codes; try again in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    });
  }

  async recordFailure(keys: readonly string[]): Promise<void> {
    const { freeFailures, baseDelayMs, maxDelayMs, maxCounters } = this.#options;
    const now = this.#clock.now();
    await this.#store.update((db) => {
      const attempts = attemptsOf(db, now, maxDelayMs, maxCounters);
      for (const key of keys)
        bump(attempts, counterKey(key), now, freeFailures, { baseMs: baseDelayMs, maxMs: maxDelayMs });
    });
  }

  async recordSuccess(keys: readonly string[]): Promise<void> {
    const attempts = this.#store.db.attempts ?? {};
    if (!keys.some((key) => attempts[counterKey(key)])) return;
    await this.#store.update((db) => {
      for (const key of keys) if (db.attempts) delete db.attempts[counterKey(key)];
    });
  }
}
