import type { Db } from '../domain/model.js';
import type { Store } from '../store/store.js';

/** The collections the console lists, and the order it lists them in. */
type Listed = 'users' | 'sessions' | 'subscriptions' | 'devices' | 'vouchers';
type RecordOf<K extends Listed> = Db[K][string];

const ORDER: { [K in Listed]?: (a: RecordOf<K>, b: RecordOf<K>) => number } = {
  users: (a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id),
  sessions: (a, b) => b.startedAt - a.startedAt || a.id.localeCompare(b.id),
};

/**
 * Each listed collection as an array, built once and kept until the store changes that
 * collection. `Object.values` over 100k dictionary-mode records costs tens of milliseconds
 * (V8 orders them by insertion first); a console page must not pay that on every load, only
 * after a write to what it shows. Rows are replaced, never edited, so a change to one row of a
 * collection drops that collection's array.
 */
export class CollectionSnapshots {
  readonly #store: Pick<Store, 'db'>;
  readonly #arrays = new Map<Listed, readonly unknown[]>();
  readonly #derived = new Map<string, unknown>();

  constructor(store: Pick<Store, 'db' | 'onChange'>) {
    this.#store = store;
    store.onChange((record) => {
      for (const change of record.changes) {
        if (!this.#arrays.delete(change.table as Listed)) continue;
        for (const key of this.#derived.keys()) if (key.startsWith(`${change.table}:`)) this.#derived.delete(key);
      }
    });
  }

  list<K extends Listed>(name: K): ReadonlyArray<RecordOf<K>> {
    let array = this.#arrays.get(name) as Array<RecordOf<K>> | undefined;
    if (!array) {
      array = Object.values(this.#store.db[name]) as Array<RecordOf<K>>;
      const order = ORDER[name] as ((a: RecordOf<K>, b: RecordOf<K>) => number) | undefined;
      if (order) array.sort(order);
      this.#arrays.set(name, array);
    }
    return array;
  }

  /**
   * Something computed from a collection's array (a search text per row, a grouping), kept as
   * long as the array is. `build` must read only that collection's rows, in the array's order.
   */
  derived<K extends Listed, T>(name: K, key: string, build: (rows: ReadonlyArray<RecordOf<K>>) => T): T {
    const rows = this.list(name);
    const id = `${name}:${key}`;
    if (this.#derived.has(id)) return this.#derived.get(id) as T;
    const value = build(rows);
    this.#derived.set(id, value);
    return value;
  }
}
