import type { Db } from '../domain/model.js';

const NONE: readonly string[] = Object.freeze([]);

/**
 * A key → record ids index over one collection of the store, for lookups on every RADIUS
 * packet. Hits are validated against the live records (the record still exists and still has
 * that key), a miss or a stale hit rebuilds at once (unless misses are trusted), and the whole
 * index is rebuilt when older than `maxAgeMs`, so a record added under a key that is already
 * indexed is seen within that time. Freshness is measured on the monotonic process clock, not
 * the domain Clock: it is a cache's age, not a business time, and a test's frozen ManualClock
 * must not freeze the cache.
 *
 * The collection and key function are fixed at construction rather than passed per lookup, so
 * that a lookup creates no validator closure: it runs per packet.
 */
export class LookupIndex<T> {
  readonly #recordsOf: (db: Readonly<Db>) => Readonly<Record<string, T>>;
  readonly #keyOf: (record: T) => string | null;
  readonly #maxAgeMs: number;
  readonly #trustMisses: boolean;
  #map = new Map<string, string[]>();
  #builtAt = -Infinity;

  /**
   * `trustMisses`: while the index is fresh, an absent key means "none" instead of forcing a
   * rebuild (for collections where most lookups find nothing, such as live sessions per owner).
   */
  constructor(
    recordsOf: (db: Readonly<Db>) => Readonly<Record<string, T>>,
    keyOf: (record: T) => string | null,
    options: { maxAgeMs?: number; trustMisses?: boolean } = {},
  ) {
    this.#recordsOf = recordsOf;
    this.#keyOf = keyOf;
    this.#maxAgeMs = options.maxAgeMs ?? 5000;
    this.#trustMisses = options.trustMisses ?? false;
  }

  /** Ids of the records whose key is `key`; rebuilds when a hit is stale or missing. */
  lookup(db: Readonly<Db>, key: string): readonly string[] {
    const records = this.#recordsOf(db);
    if (performance.now() - this.#builtAt <= this.#maxAgeMs) {
      const ids = this.#map.get(key);
      if (ids === undefined && this.#trustMisses) return NONE;
      if (ids && this.#allValid(records, ids, key)) return ids;
      if (ids && this.#trustMisses) return this.#valid(records, ids, key);
    }
    this.refresh(db);
    return this.#valid(records, this.#map.get(key) ?? NONE, key);
  }

  refresh(db: Readonly<Db>): void {
    const map = new Map<string, string[]>();
    for (const [id, record] of Object.entries(this.#recordsOf(db))) {
      const key = this.#keyOf(record);
      if (key === null) continue;
      const ids = map.get(key);
      if (ids) ids.push(id);
      else map.set(key, [id]);
    }
    this.#map = map;
    this.#builtAt = performance.now();
  }

  #isValid(records: Readonly<Record<string, T>>, id: string, key: string): boolean {
    const record = records[id];
    return record !== undefined && this.#keyOf(record) === key;
  }

  #allValid(records: Readonly<Record<string, T>>, ids: readonly string[], key: string): boolean {
    for (const id of ids) if (!this.#isValid(records, id, key)) return false;
    return true;
  }

  #valid(records: Readonly<Record<string, T>>, ids: readonly string[], key: string): string[] {
    const out: string[] = [];
    for (const id of ids) if (this.#isValid(records, id, key)) out.push(id);
    return out;
  }
}
