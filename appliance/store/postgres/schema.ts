import type pg from 'pg';
import { HISTORY_NAMES, type HistoryName } from '../store.js';
import { COLLECTIONS, DOCUMENTS_TABLE } from '../state-layout.js';

/** The table holding a collection's rows (`users` → `rows_users`, `payments.invoices` → `rows_payments_invoices`). */
export function tableOf(logical: string): string {
  // Unquoted SQL names fold to lower case: refreshTokens is rows_refreshtokens.
  return logical === DOCUMENTS_TABLE ? 'documents' : `rows_${logical.replaceAll('.', '_')}`.toLowerCase();
}

/** The append-only table of a history (`closed-sessions` → `history_closed_sessions`). */
export function historyTableOf(name: HistoryName): string {
  return `history_${name.replaceAll('-', '_')}`;
}

/** The NOTIFY channel a commit signals; its payload is `SEQ ORIGIN`: the last sequence it wrote, and by whom. */
export const CHANGE_CHANNEL = 'turnpike_changes';

/** Session advisory lock held while the schema and the state document are migrated. */
export const MIGRATION_LOCK = 727_0001;

/**
 * `tp_commit(origin, mutations)`: commits a batch of change records, each with optimistic
 * concurrency on its rows' versions. A record whose expected versions do not match the stored
 * ones is not written; the answer carries those rows as they are now so that the writer can
 * re-run the mutation without another round trip. A row's version is the change-log sequence
 * of the record that last wrote it (0: absent), so versions only grow, deletions included.
 *
 * Why the advisory lock: change-log sequences come from `nextval`, and transactions holding
 * sequences 10 and 11 may commit in the order 11, 10. A reader catching up "past 10" would then
 * skip 10 forever. Taking a transaction-level advisory lock before `nextval` makes writers take
 * sequences one transaction at a time, and the lock is released only after the commit is
 * visible: whoever sees sequence N sees every committed sequence below it. A rolled-back
 * transaction leaves a gap, never a late arrival. Writers are serialized, but each appliance
 * sends its concurrent writes in one batch (one commit), so throughput scales with batch size,
 * and the version checks run under the same lock, so they see every earlier commit.
 */
const COMMIT_FUNCTION = `
CREATE OR REPLACE FUNCTION tp_table(logical text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN logical = '${DOCUMENTS_TABLE}' THEN 'documents' ELSE lower('rows_' || replace(logical, '.', '_')) END
$$;

-- The rows of a batch, one per change: which record (1-based), table, id, new value, expected version.
CREATE OR REPLACE FUNCTION tp_rows(p_batch jsonb)
  RETURNS TABLE (m int, tbl text, id text, value jsonb, expected bigint) LANGUAGE sql IMMUTABLE AS $$
  SELECT rec.ordinality::int, chg.value->>'table', chg.value->>'id', chg.value->'value',
         (rec.value->'expected'->>(chg.ordinality::int - 1))::bigint
    FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS rec,
         jsonb_array_elements(rec.value->'changes') WITH ORDINALITY AS chg
$$;

-- Set-based per table (a handful of statements per batch, not per row): the writer never puts
-- two records touching the same row in one batch, so every check is against the rows as they
-- were before the batch.
CREATE OR REPLACE FUNCTION tp_commit(p_origin text, p_batch jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  n int := jsonb_array_length(p_batch);
  tables text[];
  t text;
  stale jsonb;
  ms int[];
  ids text[];
  expected bigint[];
  vals jsonb[];
  versions bigint[];
  conflicts jsonb := '[]'::jsonb;
  losers int[];
  seqs bigint[] := array_fill(0::bigint, ARRAY[jsonb_array_length(p_batch)]);
  last_seq bigint := 0;
  as_of bigint := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(${MIGRATION_LOCK + 1});
  SELECT coalesce(array_agg(DISTINCT r.tbl), '{}') INTO tables FROM tp_rows(p_batch) r;
  -- The rows go to the dynamic statements as arrays: unnest of a bound array is estimated at its
  -- true length, so each check is an index lookup per row, never a scan of a 100,000-row table.
  FOREACH t IN ARRAY tables LOOP
    SELECT array_agg(r.m), array_agg(r.id), array_agg(r.expected)
      INTO ms, ids, expected FROM tp_rows(p_batch) r WHERE r.tbl = t;
    EXECUTE format(
      'SELECT coalesce(jsonb_agg(jsonb_build_object(''m'', f.m, ''table'', $4, ''id'', f.id,
              ''value'', coalesce(s.data, ''null''::jsonb), ''version'', coalesce(s.version, 0))), ''[]''::jsonb)
         FROM unnest($1::int[], $2::text[], $3::bigint[]) AS f(m, id, expected) LEFT JOIN %I s ON s.id = f.id
        WHERE coalesce(s.version, 0) <> f.expected', tp_table(t))
      INTO stale USING ms, ids, expected, t;
    conflicts := conflicts || stale;
  END LOOP;
  SELECT coalesce(array_agg(DISTINCT (x->>'m')::int), '{}') INTO losers FROM jsonb_array_elements(conflicts) x;
  FOR i IN 1 .. n LOOP
    IF NOT i = ANY(losers) THEN
      seqs[i] := nextval('change_log_seq_seq');
      last_seq := seqs[i];
    END IF;
  END LOOP;
  IF last_seq > 0 THEN
    FOREACH t IN ARRAY tables LOOP
      SELECT coalesce(array_agg(r.id), '{}') INTO ids FROM tp_rows(p_batch) r
       WHERE r.tbl = t AND jsonb_typeof(r.value) = 'null' AND NOT r.m = ANY(losers);
      IF cardinality(ids) > 0 THEN
        EXECUTE format('DELETE FROM %I WHERE id = ANY($1)', tp_table(t)) USING ids;
      END IF;
      SELECT coalesce(array_agg(r.id), '{}'), coalesce(array_agg(r.value), '{}'), coalesce(array_agg(seqs[r.m]), '{}')
        INTO ids, vals, versions FROM tp_rows(p_batch) r
       WHERE r.tbl = t AND jsonb_typeof(r.value) <> 'null' AND NOT r.m = ANY(losers);
      IF cardinality(ids) > 0 THEN
        EXECUTE format(
          'INSERT INTO %I (id, data, version) SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bigint[])
           ON CONFLICT (id) DO UPDATE SET data = excluded.data, version = excluded.version', tp_table(t))
          USING ids, vals, versions;
      END IF;
    END LOOP;
    INSERT INTO change_log (seq, origin, changes)
      SELECT seqs[rec.ordinality], p_origin, rec.value->'changes'
        FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS rec
       WHERE NOT rec.ordinality::int = ANY(losers)
       ORDER BY rec.ordinality;
    PERFORM pg_notify('${CHANGE_CHANNEL}', last_seq::text || ' ' || p_origin);
  END IF;
  IF cardinality(losers) > 0 THEN
    SELECT greatest(coalesce(max(seq), 0), (SELECT pruned_through FROM change_log_horizon)) INTO as_of FROM change_log;
  END IF;
  RETURN (
    SELECT jsonb_agg(CASE WHEN i = ANY(losers)
      THEN jsonb_build_object('asOf', as_of, 'conflicts',
             (SELECT jsonb_agg(x - 'm') FROM jsonb_array_elements(conflicts) x WHERE (x->>'m')::int = i))
      ELSE jsonb_build_object('seq', seqs[i]) END ORDER BY i)
    FROM generate_series(1, n) AS i);
END
$$;
`;

function historyTable(name: HistoryName): string {
  const table = historyTableOf(name);
  return `CREATE TABLE ${table} (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  data jsonb NOT NULL
);`;
}

export interface SchemaMigration {
  version: number;
  description: string;
  sql: string;
}

/** Ordered, never edited once released: a change to the schema is a new entry. */
export const SCHEMA_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    description: 'documents, change log, histories',
    sql: `
CREATE TABLE documents (id text PRIMARY KEY, data jsonb NOT NULL, version bigint NOT NULL);
CREATE TABLE change_log (
  seq bigserial PRIMARY KEY,
  origin text NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  changes jsonb NOT NULL
);
-- Everything at or below pruned_through is gone from change_log: a reader behind it reloads all rows.
CREATE TABLE change_log_horizon (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), pruned_through bigint NOT NULL);
INSERT INTO change_log_horizon (pruned_through) VALUES (0);
${HISTORY_NAMES.map(historyTable).join('\n')}
-- The audit page filters by time and reads newest first (seq); the rest are read in order.
CREATE INDEX history_audit_at ON history_audit (at);`,
  },
];

export const LATEST_SCHEMA = SCHEMA_MIGRATIONS.at(-1)!.version;

/**
 * Brings the database's schema up to date: the versioned migrations not yet applied, each in its
 * own transaction and recorded in `schema_migrations`, then a table for every collection in
 * state-layout.ts. Callers hold MIGRATION_LOCK so that two appliances starting together do not
 * both migrate. Returns the versions applied.
 */
export async function migrateSchema(client: pg.ClientBase): Promise<number[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version int PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
  const done = new Set(rows.map((row) => row.version));
  const newest = Math.max(0, ...done);
  if (newest > LATEST_SCHEMA) {
    throw new Error(`the database schema is at version ${newest}, newer than this Turnpike knows (${LATEST_SCHEMA})`);
  }
  const applied: number[] = [];
  for (const migration of SCHEMA_MIGRATIONS) {
    if (done.has(migration.version)) continue;
    await inTransaction(client, async () => {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [
        migration.version,
        migration.description,
      ]);
    });
    applied.push(migration.version);
  }
  await inTransaction(client, async () => {
    await ensureCollectionTables(client);
    // Functions are code, not data: each start installs the ones this Turnpike calls.
    await client.query(COMMIT_FUNCTION);
  });
  return applied;
}

/**
 * A table per collection of state-layout.ts. The layout is code: a collection added there gets
 * its table here, and the rows it held while it was stored as one document move into it.
 */
async function ensureCollectionTables(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'rows\\_%'",
  );
  const existing = new Set(rows.map((row) => row.name));
  for (const collection of COLLECTIONS) {
    const table = tableOf(collection);
    if (existing.has(table)) continue;
    await client.query(`CREATE TABLE ${table} (id text PRIMARY KEY, data jsonb NOT NULL, version bigint NOT NULL)`);
    await client.query(
      `INSERT INTO ${table} (id, data, version)
       SELECT entry.key, entry.value, documents.version FROM documents, jsonb_each(documents.data) AS entry
       WHERE documents.id = $1 AND jsonb_typeof(documents.data) = 'object'`,
      [collection],
    );
    await client.query('DELETE FROM documents WHERE id = $1', [collection]);
  }
}

export async function inTransaction<T>(client: pg.ClientBase, run: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await run();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
