import type { Db } from '../domain/model.js';

/**
 * A key → record ids index over one collection of the store, for lookups on every RADIUS
 * packet. Hits are validated against the live records, a miss or a stale hit rebuilds at once
 * (unless misses are trusted), and the whole index is rebuilt when older than `maxAgeMs`, so a
 * record added under a key that is already indexed is seen within that time. Freshness is
 * measured on the monotonic process clock, not the domain Clock: it is a cache's age, not a
 * business time, and a test's frozen ManualClock must not freeze the cache.
 */
export class LookupIndex {
  readonly #build: (db: Readonly<Db>) => Map<string, string[]>;
  readonly #maxAgeMs: number;
  readonly #trustMisses: boolean;
  #map = new Map<string, string[]>();
  #builtAt = -Infinity;

  /**
   * `trustMisses`: while the index is fresh, an absent key means "none" instead of forcing a
   * rebuild (for collections where most lookups find nothing, such as live sessions per owner).
   */
  constructor(
    build: (db: Readonly<Db>) => Map<string, string[]>,
    options: { maxAgeMs?: number; trustMisses?: boolean } = {},
  ) {
    this.#build = build;
    this.#maxAgeMs = options.maxAgeMs ?? 5000;
    this.#trustMisses = options.trustMisses ?? false;
  }

  /** Ids under `key` that pass `valid`; rebuilds when a hit is stale or missing. */
  lookup(db: Readonly<Db>, key: string, valid: (id: string) => boolean): string[] {
    if (performance.now() - this.#builtAt <= this.#maxAgeMs) {
      const ids = this.#map.get(key);
      if (ids === undefined && this.#trustMisses) return [];
      if (ids && ids.every(valid)) return ids;
      if (ids && this.#trustMisses) return ids.filter(valid);
    }
    this.refresh(db);
    return (this.#map.get(key) ?? []).filter(valid);
  }

  refresh(db: Readonly<Db>): void {
    this.#map = this.#build(db);
    this.#builtAt = performance.now();
  }
}

export function groupIds<T>(records: Record<string, T>, keyOf: (record: T) => string | null): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [id, record] of Object.entries(records)) {
    const key = keyOf(record);
    if (key === null) continue;
    const ids = map.get(key);
    if (ids) ids.push(id);
    else map.set(key, [id]);
  }
  return map;
}
