import { hash, randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';

export type VerifyPassword = (password: string, hash: string) => Promise<boolean>;

/**
 * Remembers bcrypt outcomes briefly so that a NAS re-authenticating a guest costs one bcrypt,
 * not one per packet. Keys are SHA-256 digests of a per-process random key and (user, hash, password): the
 * cleartext is never kept, and a changed password hash misses the cache. Concurrent checks of
 * the same triple share one bcrypt.
 */
export class PasswordCache {
  /**
   * Prefixed to every key's input. One-shot `hash` per lookup: copying a keyed Hash object
   * allocated a native object per RADIUS request, which showed in its profile.
   */
  readonly #keyPrefix = `${randomBytes(32).toString('base64')}\0`;
  readonly #entries = new Map<string, { ok: boolean; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<boolean>>();
  readonly #verify: VerifyPassword;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: { verify: VerifyPassword; clock: Clock; ttlSeconds: number; maxEntries?: number }) {
    this.#verify = options.verify;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Verdicts remembered (monitoring, tests); never more than `maxEntries`. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached verdict synchronously when there is one (the common case), else a bcrypt check. */
  check(userId: string, passwordHash: string, password: string): boolean | Promise<boolean> {
    const key = hash('sha256', `${this.#keyPrefix}${userId}\0${passwordHash}\0${password}`, 'base64');
    const cached = this.#entries.get(key);
    if (cached && cached.expiresAt > this.#clock.now()) return cached.ok;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#verify(password, passwordHash)
        .then((ok) => {
          if (this.#ttlMs > 0) this.#remember(key, ok, this.#clock.now() + this.#ttlMs);
          return ok;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  #remember(key: string, ok: boolean, expiresAt: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { ok, expiresAt });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
