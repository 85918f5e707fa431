import type { Db } from '../domain/model.js';
import type { ChangeRecord } from './change-record.js';

/** Histories that grow without bound and therefore stay out of current state. */
export type HistoryName = 'audit' | 'accounting' | 'closed-sessions' | 'payment-events' | 'coa';

export const HISTORY_NAMES: readonly HistoryName[] = [
  'audit',
  'accounting',
  'closed-sessions',
  'payment-events',
  'coa',
];

/**
 * A history: records appended for good, read back in order. `append` resolves once the record
 * is durable. The embedded driver keeps rotated JSON-lines files, PostgreSQL a table.
 */
export interface History<T extends object = Record<string, unknown>> {
  append(record: T): Promise<void>;
  /** Every record, oldest first. */
  readAll(): Promise<T[]>;
  /**
   * Every record, oldest first, read a chunk at a time: a long history is never held whole. With
   * `before`, a driver may leave out records that `before` accepts, as long as each it leaves out
   * is older than every record it gives (the rotated files wholly before a time range).
   */
  stream(before?: (record: T) => boolean): AsyncIterable<T>;
  /** The records after the newest one that `reached` accepts, oldest first, read from the newest end. */
  readSince(reached: (record: T) => boolean): Promise<T[]>;
  /** The newest record that `matches` accepts. */
  findLast(matches: (record: T) => boolean): Promise<T | undefined>;
}

/** A record a mutation adds to a history, as part of that mutation. */
export interface HistoryLine {
  name: HistoryName;
  line: object;
}

/**
 * How a mutation adds history records. They are written with the mutation's change, once it is
 * decided: a store may run a mutation more than once (PostgreSQL re-runs it after a conflict),
 * and only the run that commits leaves its records; a mutation that throws leaves none.
 */
export interface HistoryWriter {
  append(name: HistoryName, line: object): void;
}

export interface StoreWriteStats {
  batchSize: number;
  ms: number;
  /** `wal`: change records fsynced in the log (acknowledgements); `checkpoint`: db.json rewritten. */
  file: 'wal' | 'checkpoint';
}

/**
 * The appliance's one store. Reads are synchronous views of current state; `update` applies a
 * mutation and resolves only once its change is durable. A mutation must check before it
 * changes: when it throws, nothing is changed. Inside a mutation `db` is a draft: return ids or
 * copies, not the draft's objects, and read `db`, not `store.db`, to see the mutation's own changes.
 * History records that belong to the change go through `histories`, never `history(name).append`
 * inside the mutation; `update` resolves once they are durable too.
 */
export interface Store {
  readonly db: Readonly<Db>;
  update<T>(mutate: (db: Db, histories: HistoryWriter) => T): Promise<T>;
  history<T extends object = Record<string, unknown>>(name: HistoryName): History<T>;
  onWrite(listener: (stats: StoreWriteStats) => void): void;
  /** Hears each change once it is current state (before it is durable), whichever process made it. */
  onChange(listener: (record: ChangeRecord) => void): void;
  /** True when a probe write reaches the disk. */
  isWritable(): Promise<boolean>;
  close(): Promise<void>;
}
