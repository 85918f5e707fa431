import type { Clock } from '../clock.js';
import { TurnpikeError } from '../errors.js';

export interface GuessLimiterOptions {
  /** Failures allowed per key before back-off starts. */
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Forget a key this long after its last failure. */
  forgetAfterMs: number;
}

export const DEFAULT_GUESS_LIMITS: GuessLimiterOptions = {
  freeFailures: 5,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

interface Entry {
  failures: number;
  blockedUntil: number;
  lastFailureAt: number;
}

/**
 * Back-off for code guessing, kept per key (client address and MAC, so that a
 * guest cannot escape by changing only one of them). Each failure past the free
 * ones doubles the wait; a success clears the keys.
 */
export class GuessLimiter {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #options: GuessLimiterOptions;

  constructor(clock: Clock, options: Partial<GuessLimiterOptions> = {}) {
    this.#clock = clock;
    this.#options = { ...DEFAULT_GUESS_LIMITS, ...options };
  }

  /** Throws TP_ERR_RATE_LIMITED (with `retryAfterSeconds`) while any key is backing off. */
  assertAllowed(keys: readonly string[]): void {
    const now = this.#clock.now();
    let wait = 0;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry && entry.blockedUntil > now) wait = Math.max(wait, entry.blockedUntil - now);
    }
    if (wait > 0) {
      const retryAfterSeconds = Math.ceil(wait / 1000);
      throw new TurnpikeError('TP_ERR_RATE_LIMITED', `Too many wrong codes; try again in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      });
    }
  }

  recordFailure(keys: readonly string[]): void {
    const now = this.#clock.now();
    this.#prune(now);
    for (const key of keys) {
      const entry = this.#entries.get(key) ?? { failures: 0, blockedUntil: 0, lastFailureAt: now };
      entry.failures += 1;
      entry.lastFailureAt = now;
      const over = entry.failures - this.#options.freeFailures;
      if (over >= 0) {
        entry.blockedUntil =
          now + Math.min(this.#options.maxDelayMs, this.#options.baseDelayMs * 2 ** Math.min(over, 30));
      }
      this.#entries.set(key, entry);
    }
  }

  recordSuccess(keys: readonly string[]): void {
    for (const key of keys) this.#entries.delete(key);
  }

  #prune(now: number): void {
    if (this.#entries.size < 10_000) return;
    for (const [key, entry] of this.#entries) {
      if (now - entry.lastFailureAt > this.#options.forgetAfterMs) this.#entries.delete(key);
    }
  }
}
