import type { Clock } from '../appliance/clock.js';
import type { NasClient } from '../appliance/domain/model.js';
import { findNasClientForAddress } from '../appliance/nas/nas-clients.js';
import type { Store } from '../appliance/store/store.js';

export interface KnownClient {
  nas: NasClient;
  secret: Buffer;
}

/**
 * Source address → NAS, memoised for a second so that the hot path does not scan CIDRs per
 * packet. A hit is re-checked against the store (same record object), so a removed or edited
 * NAS stops matching at once; a new one is seen within the memo's lifetime.
 */
export class ClientTable {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #memo = new Map<string, { client: KnownClient | null; until: number }>();
  readonly #secrets = new WeakMap<NasClient, Buffer>();

  constructor(store: Store, clock: Clock, ttlMs = 1000) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  lookup(address: string): KnownClient | null {
    const now = this.#clock.now();
    const memo = this.#memo.get(address);
    if (
      memo &&
      memo.until > now &&
      (memo.client === null || this.#store.db.nasClients[memo.client.nas.id] === memo.client.nas)
    ) {
      return memo.client;
    }
    const nas = findNasClientForAddress(this.#store.db, address);
    const client = nas ? { nas, secret: this.#secretOf(nas) } : null;
    if (this.#memo.size > 65_536) this.#memo.clear();
    this.#memo.set(address, { client, until: now + this.#ttlMs });
    return client;
  }

  #secretOf(nas: NasClient): Buffer {
    let secret = this.#secrets.get(nas);
    if (!secret) {
      secret = Buffer.from(nas.secret, 'utf8');
      this.#secrets.set(nas, secret);
    }
    return secret;
  }
}
