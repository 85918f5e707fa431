import { resolve } from 'node:path';
import type { Config } from './config/schema.js';
import { TurnpikeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { LowdbStore, type LowdbStoreOptions } from './store/lowdb-store.js';
import type { Store } from './store/store.js';

/**
 * Opens the appliance's store. Every process that serves or edits the appliance's state opens it
 * here, so what the store repairs on its own at open reaches the log.
 */
export function openStore(options: Omit<LowdbStoreOptions, 'onWarning'>, logger?: Logger): Promise<LowdbStore> {
  return LowdbStore.open({ ...options, onWarning: (message, details) => logger?.warn(details, message) });
}

/**
 * Opens the store the configuration names: embedded files in `dataDir`, or PostgreSQL. The
 * PostgreSQL driver (and pg) is imported only when configured, so an embedded box never holds it.
 */
export async function openConfiguredStore(config: Pick<Config, 'dataDir' | 'store'>, logger?: Logger): Promise<Store> {
  if (config.store.driver === 'lowdb') return openStore({ dir: resolve(config.dataDir) }, logger);
  if (config.store.postgres.url === '') {
    throw new TurnpikeError('TP_ERR_CONFIG', 'store.driver is "postgres" but store.postgres.url is empty');
  }
  const { PostgresStore } = await import('./store/postgres/postgres-store.js');
  return PostgresStore.open({
    url: config.store.postgres.url,
    onWarning: (message, details) => logger?.warn(details, message),
  });
}
