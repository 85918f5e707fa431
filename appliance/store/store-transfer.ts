import { readFile } from 'node:fs/promises';
import { TurnpikeError } from '../../shared/errors.js';
import { writeFileDurably } from './durable-file.js';
import { migrate, MigrationError } from './migrations.js';
import { replaceState } from './replace-state.js';
import { COLLECTIONS, valueAt } from './state-layout.js';
import { HISTORY_NAMES as HISTORIES, type HistoryName, type Store } from './store.js';

export const EXPORT_FORMAT = 'turnpike-store-export';

/** A whole store in one file, whichever driver kept it: current state and every history. */
export interface StoreExport {
  format: typeof EXPORT_FORMAT;
  formatVersion: 1;
  exportedAt: string;
  state: Record<string, unknown>;
  histories: Record<HistoryName, object[]>;
}

export interface TransferCounts {
  rows: number;
  records: number;
}

/** Rows per write while importing: a big venue's users go in steps, not one giant change record. */
const ROWS_PER_WRITE = 2_000;
const RECORDS_PER_WRITE = 1_000;

/** Writes `store` to `file` (0600, atomically). */
export async function exportStore(store: Store, file: string, now: Date): Promise<TransferCounts> {
  const histories = {} as Record<HistoryName, object[]>;
  for (const name of HISTORIES) histories[name] = await store.history<object>(name).readAll();
  const dump: StoreExport = {
    format: EXPORT_FORMAT,
    formatVersion: 1,
    exportedAt: now.toISOString(),
    state: withEveryCollection(store.db as unknown as Record<string, unknown>),
    histories,
  };
  await writeFileDurably(file, JSON.stringify(dump));
  return { rows: countRows(dump.state), records: countRecords(histories) };
}

/**
 * Loads an export into `store`, which must be empty (no rows, no history): an import never
 * merges two venues' state. A state from an older Turnpike is migrated on the way in.
 */
export async function importStore(store: Store, file: string): Promise<TransferCounts> {
  const dump = parseExport(file, await readFile(file, 'utf8'));
  const held = countRows(store.db as unknown as Record<string, unknown>);
  const recorded = await Promise.all(HISTORIES.map(async (name) => (await store.history(name).readAll()).length));
  if (held > 0 || recorded.some((count) => count > 0)) {
    throw new TurnpikeError(
      'TP_ERR_CONFLICT',
      `the target store is not empty (${held} rows, ${recorded.reduce((a, b) => a + b, 0)} history records); import only into a new store`,
    );
  }
  let state: Record<string, unknown>;
  try {
    state = migrate(dump.state).db as unknown as Record<string, unknown>;
  } catch (err) {
    if (err instanceof MigrationError) throw new TurnpikeError('TP_ERR_VALIDATION', `${file}: ${err.message}`);
    throw err;
  }
  for (const collection of COLLECTIONS) {
    const rows = Object.entries((valueAt(state, collection) ?? {}) as Record<string, unknown>);
    for (let start = 0; start < rows.length; start += ROWS_PER_WRITE) {
      await store.update((draft) => {
        const target = valueAt(draft, collection) as Record<string, unknown>;
        for (const [id, row] of rows.slice(start, start + ROWS_PER_WRITE)) target[id] = row;
      });
    }
  }
  // The documents (settings, keys, schema version), and nothing else: the rows are already there.
  await store.update((draft) => replaceState(draft, state));
  for (const name of HISTORIES) {
    const records = dump.histories[name] ?? [];
    const history = store.history<object>(name);
    for (let start = 0; start < records.length; start += RECORDS_PER_WRITE) {
      await Promise.all(records.slice(start, start + RECORDS_PER_WRITE).map((record) => history.append(record)));
    }
  }
  return { rows: countRows(state), records: countRecords(dump.histories) };
}

/**
 * The state with every collection of state-layout.ts present, empty ones included: a driver that
 * keeps a table per collection cannot tell an empty collection from an absent one, so the export
 * of the same state reads the same from either driver. Copies only the objects on the way.
 */
function withEveryCollection(state: Record<string, unknown>): Record<string, unknown> {
  const out = { ...state };
  for (const collection of COLLECTIONS) {
    if (valueAt(out, collection) !== undefined) continue;
    const keys = collection.split('.');
    let parent = out;
    for (const key of keys.slice(0, -1)) {
      parent[key] = { ...((parent[key] ?? {}) as Record<string, unknown>) };
      parent = parent[key] as Record<string, unknown>;
    }
    parent[keys.at(-1)!] = {};
  }
  return out;
}

function parseExport(file: string, text: string): StoreExport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TurnpikeError('TP_ERR_VALIDATION', `${file} is not JSON: ${(err as Error).message}`);
  }
  const dump = parsed as Partial<StoreExport>;
  if (
    typeof dump !== 'object' ||
    dump === null ||
    dump.format !== EXPORT_FORMAT ||
    dump.formatVersion !== 1 ||
    typeof dump.state !== 'object' ||
    dump.state === null ||
    typeof dump.histories !== 'object' ||
    dump.histories === null
  ) {
    throw new TurnpikeError('TP_ERR_VALIDATION', `${file} is not a Turnpike store export (turnpike db export FILE)`);
  }
  return dump as StoreExport;
}

function countRows(state: Record<string, unknown>): number {
  return COLLECTIONS.reduce(
    (sum, collection) => sum + Object.keys((valueAt(state, collection) ?? {}) as object).length,
    0,
  );
}

function countRecords(histories: Partial<Record<HistoryName, object[]>>): number {
  return HISTORIES.reduce((sum, name) => sum + (histories[name]?.length ?? 0), 0);
}
