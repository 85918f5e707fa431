import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';

interface Failures {
  count: number;
  lastAt: number;
  blockedUntil: number;
}

const MAX_TRACKED = 100_000;

/**
 * Failed-login back-off, in memory, per account key (the normalised email,
 * whether or not such an account exists — so a lockout tells nothing) and per
 * source address. After the free attempts each failure doubles the wait, up to
 * the maximum; a success clears the account's record.
 */
export class LoginThrottle {
  readonly #clock: Clock;
  readonly #policy: Config['auth']['lockout'];
  readonly #accounts = new Map<string, Failures>();
  readonly #addresses = new Map<string, Failures>();

  constructor(options: { clock: Clock; policy: Config['auth']['lockout'] }) {
    this.#clock = options.clock;
    this.#policy = options.policy;
  }

  /** Seconds until this account and address may try again; 0 when they may now. */
  retryAfterSeconds(account: string, address: string): number {
    const now = this.#clock.now();
    const until = Math.max(
      this.#accounts.get(account)?.blockedUntil ?? 0,
      this.#addresses.get(address)?.blockedUntil ?? 0,
    );
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  recordFailure(account: string, address: string): void {
    this.#bump(this.#accounts, account, this.#policy.freeAttempts);
    this.#bump(this.#addresses, address, this.#policy.perAddressFreeAttempts);
  }

  recordSuccess(account: string): void {
    this.#accounts.delete(account);
  }

  #bump(map: Map<string, Failures>, key: string, free: number): void {
    const now = this.#clock.now();
    const maxMs = this.#policy.maxDelaySeconds * 1000;
    let entry = map.get(key);
    // A record idle for longer than the longest wait has served its purpose.
    if (entry && now - entry.lastAt > maxMs) entry = undefined;
    entry ??= { count: 0, lastAt: now, blockedUntil: 0 };
    entry.count += 1;
    entry.lastAt = now;
    if (entry.count >= free) {
      const exponent = Math.min(entry.count - free, 30);
      entry.blockedUntil = now + Math.min(this.#policy.baseDelaySeconds * 1000 * 2 ** exponent, maxMs);
    }
    map.delete(key);
    map.set(key, entry);
    if (map.size > MAX_TRACKED) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}
