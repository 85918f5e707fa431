import type { Db } from '../domain/model.js';
import type { HistoryLog } from './history-log.js';

/** Histories that grow without bound and therefore stay out of `db.json`. */
export type HistoryName = 'audit' | 'accounting' | 'closed-sessions' | 'payment-events' | 'coa';

/**
 * Histories whose lines also carry changes to current state (see `Store.journaled`): one fsynced
 * line acknowledges the change, and `db.json` catches up at the next checkpoint.
 */
export type JournalName = Extract<HistoryName, 'accounting'>;

/** A journaled history's line as written: the caller's record behind its sequence number. */
export type JournalLine<R extends object = Record<string, unknown>> = { seq: number } & R;

/**
 * Re-applies a journaled line to current state when the store opens after a stop or a crash.
 * Must make the same change as the `apply` the line was journaled with; the line is parsed JSON.
 */
export type JournalReplayer = (db: Db, line: JournalLine) => void;

export interface StoreWriteStats {
  batchSize: number;
  ms: number;
  /** The journal whose lines were fsynced, or null for a `db.json` write. */
  journal: JournalName | null;
}

/**
 * The appliance's one store. Reads are synchronous views of current state;
 * `update` applies a mutation and resolves only once it is durably on disk.
 * A mutation must check before it changes: when it throws, nothing is written.
 */
export interface Store {
  readonly db: Readonly<Db>;
  update<T>(mutate: (db: Db) => T): Promise<T>;
  /**
   * A change recorded as one line of the history `name`: applies `apply` to current state and
   * resolves once the line is fsynced, without waiting for `db.json` (the checkpoint follows
   * within a second). On open, lines past the last checkpoint are replayed, so the line must hold
   * everything `apply` needs. Costs one appended line instead of rewriting `db.json`.
   */
  journaled<R extends object, T>(name: JournalName, record: R, apply: (db: Db, record: R) => T): Promise<T>;
  history<T extends object = Record<string, unknown>>(name: HistoryName): HistoryLog<T>;
  onWrite(listener: (stats: StoreWriteStats) => void): void;
  /** True when a probe write reaches the disk. */
  isWritable(): Promise<boolean>;
  close(): Promise<void>;
}
