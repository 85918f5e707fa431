import type { Clock } from '../../shared/clock.js';
import { TurnpikeError } from '../../shared/errors.js';

export interface GuessLimiterOptions {
  /** Failures allowed per key before back-off starts. */
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Forget a key this long after its last failure. */
  forgetAfterMs: number;
  /** Keys kept at most; past it the least recently failing go first. */
  maxKeys: number;
}

export const DEFAULT_GUESS_LIMITS: GuessLimiterOptions = {
  freeFailures: 5,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxKeys: 10_000,
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
 *
 * Keys are guest input, so their number is capped: a flood of made-up MACs evicts the keys
 * that failed least recently, never the ones still failing (each failure moves its key to
 * the back of the line). It stays in memory: a code guesser is bound to one gateway's guests.
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

  /** Keys currently tracked (monitoring, tests). */
  get size(): number {
    return this.#entries.size;
  }

  recordFailure(keys: readonly string[]): void {
    const now = this.#clock.now();
    for (const key of keys) {
      const entry = this.#entries.get(key) ?? { failures: 0, blockedUntil: 0, lastFailureAt: now };
      entry.failures += 1;
      entry.lastFailureAt = now;
      const over = entry.failures - this.#options.freeFailures;
      if (over >= 0) {
        entry.blockedUntil =
          now + Math.min(this.#options.maxDelayMs, this.#options.baseDelayMs * 2 ** Math.min(over, 30));
      }
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    this.#prune(now);
  }

  recordSuccess(keys: readonly string[]): void {
    for (const key of keys) this.#entries.delete(key);
  }

  /** Oldest first: the map is kept in order of last failure, so both sweeps stop at the first keeper. */
  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now - entry.lastFailureAt <= this.#options.forgetAfterMs) break;
      this.#entries.delete(key);
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#options.maxKeys) break;
      this.#entries.delete(key);
    }
  }
}
