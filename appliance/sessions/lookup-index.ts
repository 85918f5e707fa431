import type { Db } from '../domain/model.js';

/**
 * A key → record ids index over one collection of the store, for lookups on every RADIUS
 * packet. Hits are validated against the live records, a miss or a stale hit rebuilds at once,
 * and the whole index is rebuilt when older than `maxAgeMs`, so a record added under a key that
 * is already indexed is seen within that time.
 */
export class LookupIndex {
  readonly #build: (db: Readonly<Db>) => Map<string, string[]>;
  readonly #maxAgeMs: number;
  #map = new Map<string, string[]>();
  #builtAt = -Infinity;

  constructor(build: (db: Readonly<Db>) => Map<string, string[]>, maxAgeMs = 5000) {
    this.#build = build;
    this.#maxAgeMs = maxAgeMs;
  }

  /** Ids under `key` that pass `valid`; rebuilds when a hit is stale or missing. */
  lookup(db: Readonly<Db>, key: string, now: number, valid: (id: string) => boolean): string[] {
    if (now - this.#builtAt <= this.#maxAgeMs) {
      const ids = this.#map.get(key);
      if (ids && ids.every(valid)) return ids;
    }
    this.refresh(db, now);
    return (this.#map.get(key) ?? []).filter(valid);
  }

  refresh(db: Readonly<Db>, now: number): void {
    this.#map = this.#build(db);
    this.#builtAt = now;
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
