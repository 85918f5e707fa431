import type { Db } from '../domain/model.js';
import type { ChangeRecord } from '../store/change-record.js';
import { peekRow } from '../store/staged-mutation.js';

const NONE: readonly string[] = Object.freeze([]);

/** The top-level collections of `Db` an index can cover (records keyed by id). */
export type IndexedCollection = 'users' | 'devices' | 'subscriptions' | 'sessions';

/** Where an index reads current state and hears of each change to it. */
export interface IndexSource {
  readonly db: Readonly<Db>;
  onChange(listener: (record: ChangeRecord) => void): void;
}

/**
 * A key → record ids index over one collection of the store, for lookups on every RADIUS packet.
 *
 * Built once from current state at the first lookup, then maintained from the store's change
 * records: each changed row moves from its old key to its new one. A lookup never rebuilds it,
 * so a User-Name nobody has costs one map probe however many users exist, and nothing per packet
 * walks a collection. It holds ids, never record objects, so it stays right whether the store
 * changes records in place or replaces them. Hits are checked against the `db` being read (a
 * mutation's draft or current state), so a record gone from it is never returned.
 */
export class CollectionIndex<T> {
  readonly #source: IndexSource;
  readonly #collection: IndexedCollection;
  readonly #keyOf: (record: T) => string | null;
  #idsByKey: Map<string, string[]> | null = null;
  /** Each indexed id's key, and the record it was read from: the same record object is still valid. */
  readonly #entryById = new Map<string, { key: string; record: T }>();
  #builds = 0;

  constructor(source: IndexSource, collection: IndexedCollection, keyOf: (record: T) => string | null) {
    this.#source = source;
    this.#collection = collection;
    this.#keyOf = keyOf;
    source.onChange((record) => {
      if (this.#idsByKey === null) return;
      for (const change of record.changes) {
        if (change.table === collection) this.#move(change.id, change.value === null ? null : (change.value as T));
      }
    });
  }

  /** How many times the index was built from the whole collection (once, unless a test says otherwise). */
  get builds(): number {
    return this.#builds;
  }

  /** Ids of the records in `db` whose key is `key`. */
  lookup(db: Readonly<Db>, key: string): readonly string[] {
    const ids = (this.#idsByKey ?? this.#build()).get(key);
    if (ids === undefined) return NONE;
    const records = this.#recordsOf(db);
    for (const id of ids)
      if (!this.#isValid(records, id, key)) return ids.filter((i) => this.#isValid(records, i, key));
    return ids;
  }

  /** How many records have `key` (current state). */
  count(key: string): number {
    return (this.#idsByKey ?? this.#build()).get(key)?.length ?? 0;
  }

  #recordsOf(db: Readonly<Db>): Readonly<Record<string, T>> {
    return db[this.#collection] as unknown as Readonly<Record<string, T>>;
  }

  #build(): Map<string, string[]> {
    this.#idsByKey = new Map();
    this.#entryById.clear();
    const records = this.#recordsOf(this.#source.db);
    for (const id in records) this.#move(id, records[id]!);
    this.#builds += 1;
    return this.#idsByKey;
  }

  #move(id: string, record: T | null): void {
    const map = this.#idsByKey!;
    const entry = this.#entryById.get(id);
    const before = entry?.key;
    const after = record === null ? null : this.#keyOf(record);
    if (entry && before === after) {
      entry.record = record!;
      return;
    }
    if (before !== undefined) {
      const ids = map.get(before)!;
      ids.splice(ids.indexOf(id), 1);
      if (ids.length === 0) map.delete(before);
      this.#entryById.delete(id);
    }
    if (after === null) return;
    this.#entryById.set(id, { key: after, record: record! });
    const ids = map.get(after);
    if (ids) ids.push(id);
    else map.set(after, [id]);
  }

  #isValid(records: Readonly<Record<string, T>>, id: string, key: string): boolean {
    // Peeked: reading the row through a mutation's collection would draft it, and a draft is never the record indexed.
    const record = peekRow(records, id);
    if (record === undefined) return false;
    // The record the index read (current state, unchanged since): its key is known. A mutation's
    // draft, or a record changed since, has its key worked out again.
    const entry = this.#entryById.get(id);
    if (entry !== undefined && entry.record === record) return entry.key === key;
    return this.#keyOf(record) === key;
  }
}
