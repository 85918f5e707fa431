import type { RowChange } from './change-record.js';
import { COLLECTIONS, valueAt } from './state-layout.js';

/**
 * The ids of every collection's rows, kept as sets beside the rows themselves. A checkpoint walks
 * a set a slice at a time; listing a 100,000-key object's keys takes one uninterrupted 15 ms
 * stretch (more on a busy machine) that the event loop would wait through.
 */
export class RowIds {
  readonly #byTable = new Map<string, Set<string>>();

  constructor(state: object) {
    for (const table of COLLECTIONS) {
      const rows = valueAt(state, table);
      this.#byTable.set(table, new Set(typeof rows === 'object' && rows !== null ? Object.keys(rows) : []));
    }
  }

  apply(changes: readonly RowChange[]): void {
    for (const { table, id, value } of changes) {
      const ids = this.#byTable.get(table);
      if (!ids) continue;
      if (value === null) ids.delete(id);
      else ids.add(id);
    }
  }

  /** The ids of `table`'s rows; iterating it while rows come and go is safe. */
  of(table: string): Iterable<string> | undefined {
    return this.#byTable.get(table);
  }
}
