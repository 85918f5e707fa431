import { resolve } from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { TurnpikeError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { openConfiguredStore } from '../open-store.js';
import { exportStore, importStore } from '../store/store-transfer.js';
import { parseFlags, UsageError } from './command.js';

export const DB_USAGE = [
  ['db migrate [--url URL]', 'bring the PostgreSQL schema and state up to this version'],
  ['db export FILE [STORE]', 'write the whole store (state and histories) to FILE'],
  ['db import FILE [STORE]', 'load FILE into an empty store (lowdb → PostgreSQL and back)'],
] as const;

const STORE_FLAGS = ['driver', 'url', 'data-dir'] as const;

/**
 * `turnpike db …`. STORE is the configured store unless flags name another:
 * `--driver lowdb --data-dir DIR` or `--driver postgres --url URL`.
 */
export async function runDb(loaded: LoadedConfig, args: string[]): Promise<string[]> {
  const [verb, ...rest] = args;
  const { flags, positionals } = parseFlags(rest, STORE_FLAGS);
  const config = storeConfig(loaded.config, flags);
  switch (verb) {
    case 'migrate': {
      if (config.store.driver !== 'postgres') {
        throw new UsageError('db migrate works on PostgreSQL: set store.driver to "postgres" or pass --url URL');
      }
      const { migrateDatabase } = await import('../store/postgres/migrate-database.js');
      const { applied, version } = await migrateDatabase(requireUrl(config));
      return [
        applied.length > 0
          ? `database schema migrated to version ${version} (applied ${applied.join(', ')})`
          : `database schema already at version ${version}`,
      ];
    }
    case 'export':
    case 'import': {
      const [file] = positionals;
      if (!file || positionals.length > 1) throw new UsageError(`usage: turnpike db ${verb} FILE [--driver … --url …]`);
      const store = await openConfiguredStore(config, createLogger({ level: 'warn' }));
      try {
        const where = config.store.driver === 'postgres' ? 'the PostgreSQL store' : `the store in ${config.dataDir}`;
        if (verb === 'export') {
          const { rows, records } = await exportStore(store, resolve(file), new Date());
          return [`exported ${where}: ${rows} rows and ${records} history records to ${resolve(file)}`];
        }
        const { rows, records } = await importStore(store, resolve(file));
        return [`imported ${rows} rows and ${records} history records from ${resolve(file)} into ${where}`];
      } finally {
        await store.close();
      }
    }
    default:
      throw new UsageError('usage: turnpike db migrate | db export FILE | db import FILE');
  }
}

function storeConfig(config: Config, flags: Record<string, string>): Pick<Config, 'dataDir' | 'store'> {
  const driver = flags.driver ?? (flags.url !== undefined ? 'postgres' : config.store.driver);
  if (driver !== 'lowdb' && driver !== 'postgres')
    throw new UsageError(`--driver is lowdb or postgres, not "${driver}"`);
  return {
    dataDir: flags['data-dir'] ?? config.dataDir,
    store: { driver, postgres: { url: flags.url ?? config.store.postgres.url } },
  };
}

function requireUrl(config: Pick<Config, 'store'>): string {
  if (config.store.postgres.url === '') {
    throw new TurnpikeError('TP_ERR_CONFIG', 'store.postgres.url is empty; set it or pass --url URL');
  }
  return config.store.postgres.url;
}
