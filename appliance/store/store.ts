import type { Db } from '../domain/model.js';
import type { HistoryLog } from './history-log.js';

/** Histories that grow without bound and therefore stay out of `db.json`. */
export type HistoryName = 'audit' | 'accounting' | 'closed-sessions' | 'payment-events' | 'coa';

export interface StoreWriteStats {
  batchSize: number;
  ms: number;
}

/**
 * The appliance's one store. Reads are synchronous views of current state;
 * `update` applies a mutation and resolves only once it is durably on disk.
 * A mutation must check before it changes: when it throws, nothing is written.
 */
export interface Store {
  readonly db: Readonly<Db>;
  update<T>(mutate: (db: Db) => T): Promise<T>;
  history<T extends object = Record<string, unknown>>(name: HistoryName): HistoryLog<T>;
  onWrite(listener: (stats: StoreWriteStats) => void): void;
  /** True when a probe write reaches the disk. */
  isWritable(): Promise<boolean>;
  close(): Promise<void>;
}
