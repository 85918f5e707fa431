/**
 * RFC 5080 §2.2.2 duplicate detection: a request with the same source, port, identifier and
 * authenticator inside the window is a retransmission. While the first copy is still being
 * processed the copy is dropped; afterwards it gets the cached reply without being processed.
 */
export type DuplicateVerdict = { kind: 'new' } | { kind: 'in-progress' } | { kind: 'replay'; reply: Buffer };

interface Entry {
  authenticator: Buffer;
  reply: Buffer | null;
  expiresAt: number;
}

export class DuplicateCache {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  #insertsSincePrune = 0;

  constructor(windowMs: number, maxEntries = 262_144) {
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Classifies a request and, when new, reserves its slot. */
  check(key: string, authenticator: Buffer, now: number): DuplicateVerdict {
    if (this.#windowMs === 0) return { kind: 'new' };
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > now && entry.authenticator.equals(authenticator)) {
      return entry.reply ? { kind: 'replay', reply: entry.reply } : { kind: 'in-progress' };
    }
    // Re-inserting moves the key to the end, keeping the map in expiry order.
    if (entry) this.#entries.delete(key);
    this.#entries.set(key, { authenticator: Buffer.from(authenticator), reply: null, expiresAt: now + this.#windowMs });
    if (++this.#insertsSincePrune >= 64) this.#prune(now);
    return { kind: 'new' };
  }

  /** Stores the reply sent (or null to forget a request that was dropped after all). */
  complete(key: string, reply: Buffer | null): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    if (reply) entry.reply = reply;
    else this.#entries.delete(key);
  }

  #prune(now: number): void {
    this.#insertsSincePrune = 0;
    // Entries are inserted in time order, so expired ones sit at the front.
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
