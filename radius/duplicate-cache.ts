/**
 * RFC 5080 §2.2.2 duplicate detection for the requests of one source address on one port: a
 * request with the same source port, identifier and authenticator inside the window is a
 * retransmission. While the first copy is still being processed the copy is dropped; afterwards
 * it gets the cached reply without being processed.
 *
 * Shaped for the per-packet path: the server reaches this cache through the client lookup it
 * already does by address, so a slot is a number (source port × 256 + identifier) instead of a
 * string built and hashed per packet, and the authenticator is kept as four words, not a copy.
 */

/** A request seen inside the window; the server completes it with the reply it sent. */
export class PendingRequest {
  reply: Buffer | null = null;
  readonly #words0: number;
  readonly #words1: number;
  readonly #words2: number;
  readonly #words3: number;

  /** `packet` is the request; its Request Authenticator is octets 4–19. */
  constructor(
    readonly slot: number,
    packet: Buffer,
    readonly expiresAt: number,
  ) {
    this.#words0 = packet.readInt32LE(4);
    this.#words1 = packet.readInt32LE(8);
    this.#words2 = packet.readInt32LE(12);
    this.#words3 = packet.readInt32LE(16);
  }

  hasAuthenticatorOf(packet: Buffer): boolean {
    return (
      this.#words0 === packet.readInt32LE(4) &&
      this.#words1 === packet.readInt32LE(8) &&
      this.#words2 === packet.readInt32LE(12) &&
      this.#words3 === packet.readInt32LE(16)
    );
  }
}

export type DuplicateVerdict =
  { kind: 'new'; request: PendingRequest } | { kind: 'in-progress' } | { kind: 'replay'; reply: Buffer };

const IN_PROGRESS: DuplicateVerdict = Object.freeze({ kind: 'in-progress' });

export class DuplicateCache {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<number, PendingRequest>();
  #insertsSincePrune = 0;

  /** `maxEntries` bounds one source; the client table bounds how many sources there are. */
  constructor(windowMs: number, maxEntries = 65_536) {
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Classifies `packet` (a request from `sourcePort`) and, when new, reserves its slot. */
  check(sourcePort: number, packet: Buffer, now: number): DuplicateVerdict {
    const slot = sourcePort * 256 + packet[1]!;
    const entry = this.#entries.get(slot);
    if (entry && entry.expiresAt > now && entry.hasAuthenticatorOf(packet)) {
      return entry.reply ? { kind: 'replay', reply: entry.reply } : IN_PROGRESS;
    }
    const request = new PendingRequest(slot, packet, now + this.#windowMs);
    if (this.#windowMs === 0) return { kind: 'new', request };
    // Re-inserting moves the slot to the end, keeping the map in expiry order.
    if (entry) this.#entries.delete(slot);
    this.#entries.set(slot, request);
    if (++this.#insertsSincePrune >= 64) this.#prune(now);
    return { kind: 'new', request };
  }

  /** Stores the reply sent (or null to forget a request that was dropped after all). */
  complete(request: PendingRequest, reply: Buffer | null): void {
    if (reply) request.reply = reply;
    else if (this.#entries.get(request.slot) === request) this.#entries.delete(request.slot);
  }

  #prune(now: number): void {
    this.#insertsSincePrune = 0;
    // Entries are inserted in time order, so expired ones sit at the front.
    for (const [slot, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(slot);
    }
  }
}
