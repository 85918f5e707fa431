import type { Clock } from '../../shared/clock.js';
import type { Db, OneTimeToken } from '../domain/model.js';
import type { Store } from '../store/store.js';
import { opaqueToken, sha256Hex } from './secrets.js';

/**
 * Single-use tokens (emailed password resets and email verifications, the MFA step of a sign-in),
 * stored only as hashes. Only the newest of a user's tokens for a purpose works: issuing one voids
 * the older ones, so an old mail or an earlier sign-in attempt opens nothing.
 */
export class OneTimeTokens {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  async issue(userId: string, purpose: OneTimeToken['purpose'], ttlSeconds: number): Promise<string> {
    const token = opaqueToken();
    const now = this.#clock.now();
    await this.#store.update((db) => {
      for (const [hash, record] of Object.entries(db.oneTimeTokens)) {
        const superseded = record.userId === userId && record.purpose === purpose;
        if (superseded || record.expiresAt <= now || record.usedAt !== null) delete db.oneTimeTokens[hash];
      }
      db.oneTimeTokens[sha256Hex(token)] = {
        hash: sha256Hex(token),
        userId,
        purpose,
        expiresAt: now + ttlSeconds * 1000,
        usedAt: null,
      };
    });
    return token;
  }

  /**
   * Inside a store mutation: marks the token used and returns its user id, or
   * null when it is unknown, of another purpose, used or expired.
   */
  consumeIn(db: Db, token: string, purpose: OneTimeToken['purpose']): string | null {
    const record = db.oneTimeTokens[sha256Hex(token)];
    if (!record || record.purpose !== purpose || record.usedAt !== null || record.expiresAt <= this.#clock.now()) {
      return null;
    }
    record.usedAt = this.#clock.now();
    return record.userId;
  }

  /** Inside a store mutation: voids every outstanding token of the user for the purpose (a completed reset). */
  voidAllIn(db: Db, userId: string, purpose: OneTimeToken['purpose']): void {
    for (const [hash, record] of Object.entries(db.oneTimeTokens)) {
      if (record.userId === userId && record.purpose === purpose) delete db.oneTimeTokens[hash];
    }
  }

  /** Read-only check, so callers can do slow work (hashing) before consuming. */
  peek(token: string, purpose: OneTimeToken['purpose']): string | null {
    const record = this.#store.db.oneTimeTokens[sha256Hex(token)];
    if (!record || record.purpose !== purpose || record.usedAt !== null || record.expiresAt <= this.#clock.now()) {
      return null;
    }
    return record.userId;
  }
}
