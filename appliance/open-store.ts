import { replayAccountingLine } from './sessions/accounting.js';
import { LowdbStore, type JournalReplayers, type LowdbStoreOptions } from './store/lowdb-store.js';

/** How each journaled history re-applies to current state: the domain's, handed to the store. */
export const STORE_JOURNALS: JournalReplayers = { accounting: replayAccountingLine };

/**
 * Opens the appliance's store with its journal replayers. Every process that serves or edits
 * the appliance's state opens it here, so journaled changes are never left behind.
 */
export function openStore(options: Omit<LowdbStoreOptions, 'journals'>): Promise<LowdbStore> {
  return LowdbStore.open({ ...options, journals: STORE_JOURNALS });
}
