import type { Logger } from './logger.js';
import { LowdbStore, type LowdbStoreOptions } from './store/lowdb-store.js';

/**
 * Opens the appliance's store. Every process that serves or edits the appliance's state opens it
 * here, so what the store repairs on its own at open reaches the log.
 */
export function openStore(options: Omit<LowdbStoreOptions, 'onWarning'>, logger?: Logger): Promise<LowdbStore> {
  return LowdbStore.open({ ...options, onWarning: (message, details) => logger?.warn(details, message) });
}
