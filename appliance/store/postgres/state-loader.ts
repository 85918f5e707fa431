import type pg from 'pg';
import { DOCUMENTS_TABLE, COLLECTIONS, setValueAt } from '../state-layout.js';
import { tableOf } from './schema.js';

/** The key of a row in the version map: its table and id. */
export const rowKey = (table: string, id: string): string => `${table}\u0000${id}`;

export interface LoadedState {
  /** Current state as the appliance reads it (collections as records of rows, documents by path). */
  state: Record<string, unknown>;
  /** Each row's version: the change-log sequence that last wrote it. */
  versions: Map<string, number>;
  /** The change-log sequence the state includes everything up to. */
  seq: number;
}

/**
 * Reads every row in one repeatable-read snapshot, so the state and the sequence it is current
 * to agree: catching up from `seq` misses nothing and repeats nothing.
 */
export async function loadState(client: pg.ClientBase): Promise<LoadedState> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const { rows: at } = await client.query<{ seq: string }>(
      `SELECT greatest((SELECT coalesce(max(seq), 0) FROM change_log),
                       (SELECT pruned_through FROM change_log_horizon)) AS seq`,
    );
    const state: Record<string, unknown> = {};
    const versions = new Map<string, number>();
    const documents = await client.query<{ id: string; data: unknown; version: string }>(
      'SELECT id, data, version FROM documents',
    );
    for (const row of documents.rows) {
      setValueAt(state, row.id, row.data);
      versions.set(rowKey(DOCUMENTS_TABLE, row.id), Number(row.version));
    }
    for (const collection of COLLECTIONS) {
      const rows: Record<string, unknown> = {};
      const result = await client.query<{ id: string; data: unknown; version: string }>(
        `SELECT id, data, version FROM ${tableOf(collection)}`,
      );
      for (const row of result.rows) {
        rows[row.id] = row.data;
        versions.set(rowKey(collection, row.id), Number(row.version));
      }
      // An empty database stays empty, so that the document migrations start from nothing.
      if (result.rows.length > 0 || documents.rows.length > 0) setValueAt(state, collection, rows);
    }
    await client.query('COMMIT');
    return { state, versions, seq: Number(at[0]!.seq) };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
