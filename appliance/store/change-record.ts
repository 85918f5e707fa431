import { DOCUMENTS_TABLE, setValueAt, valueAt } from './state-layout.js';

/**
 * One row a mutation wrote: its new value, or null when the mutation deleted it. Rows are whole
 * values, so applying a change twice gives the same state as applying it once: a checkpoint taken
 * while writes go on may already hold some of the changes the log replays over it. (The log writes
 * a row that existed as a patch; replayed in order, each field still ends at the value its last
 * writer gave it, see `applyChanges`.)
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

/**
 * How a change is written in a log line. A row that existed before the mutation is written as a
 * patch of its top-level fields (what was set, which were removed), so an update costs the log what
 * it changed rather than the whole row; a new row, a deleted one, or a value that is not a plain
 * object is written whole, as a `RowChange`.
 */
export type LoggedChange = RowChange | RowPatch;

export interface RowPatch {
  table: string;
  id: string;
  set: Record<string, unknown>;
  unset?: string[];
}

/** A change record as a log line holds it. */
export interface LoggedRecord {
  seq: number;
  changes: LoggedChange[];
}

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function rowIn(state: object, table: string, id: string): unknown {
  if (table === DOCUMENTS_TABLE) return valueAt(state, id);
  const rows = valueAt(state, table) as Fields | undefined;
  return rows !== undefined && Object.hasOwn(rows, id) ? rows[id] : undefined;
}

/**
 * The changes as the log writes them, worked out against `state` before they are applied to it.
 * Fields are compared by reference: a mutation that changes a nested value gives it a new
 * identity (a finished draft, or a value built afresh), so an unchanged reference is an unchanged
 * field. A field set to `undefined` is removed, as JSON would drop it from a whole row.
 */
export function loggedChangesOf(state: object, changes: readonly RowChange[]): LoggedChange[] {
  return changes.map((change) => {
    const { table, id, value } = change;
    const before = rowIn(state, table, id);
    if (!isFields(before) || !isFields(value)) return change;
    const set: Fields = {};
    const unset: string[] = [];
    for (const key in value) {
      const field = value[key];
      if (field === undefined) {
        if (before[key] !== undefined) unset.push(key);
      } else if (field !== before[key]) {
        set[key] = field;
      }
    }
    for (const key in before) if (!Object.hasOwn(value, key) && before[key] !== undefined) unset.push(key);
    return unset.length > 0 ? { table, id, set, unset } : { table, id, set };
  });
}

/** Writes each change into `state` in place (a patch over the row as `state` holds it). */
export function applyChanges(state: object, changes: readonly LoggedChange[]): void {
  for (const change of changes) {
    const { table, id } = change;
    const value = 'set' in change ? patched(rowIn(state, table, id), change) : change.value;
    // A patch was logged against a row that existed. If the row is missing when the patch is
    // replayed, the checkpoint was written after a later record deleted it (a checkpoint older
    // than the row's creation would be followed by that creation, logged whole, before this
    // patch). That delete is still ahead in the log, and from it on the row is gone or written
    // whole again: nothing this patch sets survives, so it is skipped.
    if (value === undefined) continue;
    if (table === DOCUMENTS_TABLE) {
      setValueAt(state, id, value === null ? undefined : value);
      continue;
    }
    let rows = valueAt(state, table) as Fields | undefined;
    if (typeof rows !== 'object' || rows === null) {
      rows = {};
      setValueAt(state, table, rows);
    }
    if (value === null) delete rows[id];
    else rows[id] = value;
  }
}

/** The row with the patch applied (a copy: readers may hold the old row), or undefined when there is no row. */
function patched(row: unknown, patch: RowPatch): Fields | undefined {
  if (!isFields(row)) return undefined;
  const next: Fields = { ...row, ...patch.set };
  for (const key of patch.unset ?? []) delete next[key];
  return next;
}

/** True when `value` has the shape of a logged change record (for a log line read back from disk). */
export function isLoggedRecord(value: unknown): value is LoggedRecord {
  if (typeof value !== 'object' || value === null) return false;
  const { seq, changes } = value as Partial<LoggedRecord>;
  return Number.isSafeInteger(seq) && Array.isArray(changes) && changes.every(isLoggedChange);
}

function isLoggedChange(change: unknown): change is LoggedChange {
  if (!isFields(change) || typeof change.table !== 'string' || typeof change.id !== 'string') return false;
  if ('value' in change) return true;
  return isFields(change.set) && (change.unset === undefined || isStringArray(change.unset));
}

const isStringArray = (value: unknown): boolean =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');
