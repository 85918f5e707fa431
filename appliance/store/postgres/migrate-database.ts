import pg from 'pg';
import { storeErrorOf } from './pg-errors.js';
import { PostgresStore } from './postgres-store.js';
import { LATEST_SCHEMA, MIGRATION_LOCK, migrateSchema } from './schema.js';

/**
 * `turnpike db migrate`: brings the database's schema, then its state document, up to this
 * Turnpike's versions. Appliances do the same at start; running it first keeps starts short.
 */
export async function migrateDatabase(url: string): Promise<{ applied: number[]; version: number }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  let applied: number[];
  try {
    await client.connect();
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    applied = await migrateSchema(client);
  } catch (err) {
    throw storeErrorOf(err, 'migrate');
  } finally {
    await client.end().catch(() => undefined);
  }
  // Opening runs the state document's migrations (the same ones the embedded store runs).
  await (await PostgresStore.open({ url })).close();
  return { applied, version: LATEST_SCHEMA };
}
