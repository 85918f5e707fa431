import type { NasClient } from '../appliance/domain/model.js';
import { findNasClientForAddress } from '../appliance/nas/nas-clients.js';
import type { Store } from '../appliance/store/store.js';

export interface KnownClient {
  nas: NasClient;
  secret: Buffer;
}

/** A source address that belongs to a NAS, with the state the server keeps per address. */
export interface KnownSource<State> {
  readonly client: KnownClient;
  readonly state: State;
}

/** Source addresses remembered at most; unknown sources are remembered too (as misses), so this bounds a flood. */
const MAX_MEMO = 65_536;

interface Memo<State> {
  source: KnownSource<State> | null;
  until: number;
}

/**
 * Source address → NAS, memoised for a second so that the hot path does not scan CIDRs per
 * packet. A hit is re-checked against the store (same record object), so a removed or edited
 * NAS stops matching at once; a new one is seen within the memo's lifetime.
 *
 * The server's per-address state (its duplicate caches) hangs off the same entry, so a packet
 * costs one map lookup by address. The state lives as long as the address keeps the same NAS
 * record; an edited NAS (a new secret, say) starts afresh.
 */
export class ClientTable<State> {
  readonly #store: Store;
  readonly #createState: () => State;
  readonly #ttlMs: number;
  readonly #memo = new Map<string, Memo<State>>();
  readonly #secrets = new WeakMap<NasClient, Buffer>();

  constructor(store: Store, createState: () => State, ttlMs = 1000) {
    this.#store = store;
    this.#createState = createState;
    this.#ttlMs = ttlMs;
  }

  /** Addresses remembered (tests, monitoring); a flood of spoofed sources never takes it past the cap. */
  get size(): number {
    return this.#memo.size;
  }

  lookup(address: string, now: number): KnownSource<State> | null {
    const memo = this.#memo.get(address);
    const source = memo?.source ?? null;
    const current = source === null || this.#store.db.nasClients[source.client.nas.id] === source.client.nas;
    if (memo && memo.until > now && current) return source;
    const nas = findNasClientForAddress(this.#store.db, address);
    let fresh: KnownSource<State> | null = null;
    if (nas) fresh = nas === source?.client.nas ? source : this.#sourceOf(nas);
    if (memo) {
      memo.source = fresh;
      memo.until = now + this.#ttlMs;
    } else {
      if (this.#memo.size >= MAX_MEMO) this.#memo.clear();
      this.#memo.set(address, { source: fresh, until: now + this.#ttlMs });
    }
    return fresh;
  }

  #sourceOf(nas: NasClient): KnownSource<State> {
    let secret = this.#secrets.get(nas);
    if (!secret) {
      secret = Buffer.from(nas.secret, 'utf8');
      this.#secrets.set(nas, secret);
    }
    return { client: { nas, secret }, state: this.#createState() };
  }
}
