import { DOCUMENTS_TABLE, setValueAt, valueAt } from './state-layout.js';

/**
 * One row a mutation wrote: its new value, or null when the mutation deleted it. Rows are whole
 * values, so applying a change twice gives the same state as applying it once: a checkpoint taken
 * while writes go on may already hold some of the changes the log replays over it.
 */
export interface RowChange {
  /** A collection's path (`users`, `payments.invoices`) or `$documents`. */
  table: string;
  /** The row's id in its collection, or a document's path (`settings`). */
  id: string;
  value: unknown;
}

/** What one mutation changed, in the order the log and the database receive it. */
export interface ChangeRecord {
  seq: number;
  changes: RowChange[];
}

/** Writes each change into `state` in place. */
export function applyChanges(state: object, changes: readonly RowChange[]): void {
  for (const { table, id, value } of changes) {
    if (table === DOCUMENTS_TABLE) {
      setValueAt(state, id, value === null ? undefined : value);
      continue;
    }
    let rows = valueAt(state, table) as Record<string, unknown> | undefined;
    if (typeof rows !== 'object' || rows === null) {
      rows = {};
      setValueAt(state, table, rows);
    }
    if (value === null) delete rows[id];
    else rows[id] = value;
  }
}

/** True when `value` has the shape of a change record (for a log line read back from disk). */
export function isChangeRecord(value: unknown): value is ChangeRecord {
  if (typeof value !== 'object' || value === null) return false;
  const { seq, changes } = value as Partial<ChangeRecord>;
  return (
    Number.isSafeInteger(seq) &&
    Array.isArray(changes) &&
    changes.every(
      (change: unknown) =>
        typeof change === 'object' &&
        change !== null &&
        typeof (change as RowChange).table === 'string' &&
        typeof (change as RowChange).id === 'string' &&
        'value' in change,
    )
  );
}
