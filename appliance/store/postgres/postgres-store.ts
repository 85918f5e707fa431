import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { TurnpikeError } from '../../../shared/errors.js';
import type { Db } from '../../domain/model.js';
import { applyChanges, type ChangeRecord, type RowChange } from '../change-record.js';
import { LATEST_SCHEMA_VERSION, migrate, MigrationError } from '../migrations.js';
import { stageMutation } from '../staged-mutation.js';
import { replaceState } from '../replace-state.js';
import { COLLECTIONS, kindOf, setValueAt, valueAt } from '../state-layout.js';
import type { History, HistoryLine, HistoryName, HistoryWriter, Store, StoreWriteStats } from '../store.js';
import { ChangeFeed } from './change-feed.js';
import { CommitQueue, type CommitOutcome, type CurrentRow } from './commit-queue.js';
import { storeErrorOf } from './pg-errors.js';
import { PgHistory } from './pg-history.js';
import { MIGRATION_LOCK, migrateSchema } from './schema.js';
import { loadState, rowKey } from './state-loader.js';

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` */
  url: string;
  /** Connections for commits and histories (the change feed has its own). */
  poolSize?: number;
  /** How many times a mutation whose rows another writer changed is re-run before TP_ERR_STORE_CONFLICT. */
  maxAttempts?: number;
  /** Catch up with the change log this often even without a notification. */
  pollMs?: number;
  /** false: no change feed; memory moves on only when `catchUp()` is called (export, tests). */
  listen?: boolean;
  /**
   * Change-log records older than this are deleted (every appliance prunes, a few times per
   * period). An appliance cut off for longer reloads every row when it is back.
   */
  changeLogRetentionMs?: number;
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

interface ChangeLogRow {
  seq: string;
  origin: string;
  changes: RowChange[] | null;
  pruned_through: string;
}

const CATCH_UP_PAGE = 1_000;
const DEFAULT_RETENTION_MS = 60 * 60 * 1000;

/**
 * The store on PostgreSQL, for several appliances on one state. Each keeps current state in
 * memory (reads stay synchronous); a write stages the mutation, commits its rows with their
 * expected versions, and applies them to memory once committed. A mutation whose rows another
 * writer changed first is re-run on the fresh rows. Other writers' commits arrive through
 * LISTEN/NOTIFY and the change log, in sequence order.
 */
export class PostgresStore implements Store {
  readonly url: string;
  readonly #pool: pg.Pool;
  readonly #origin = randomUUID();
  readonly #state: Record<string, unknown>;
  readonly #versions: Map<string, number>;
  /** Rows deleted past `#appliedSeq`, with the sequence that deleted them: older writes must not bring them back. */
  readonly #tombstones = new Map<string, number>();
  /** Own commits past `#appliedSeq`, already in memory: the change log need not send them back. */
  readonly #ownSeqs = new Set<number>();
  /** Rows with a commit of this process in flight: a mutation touching one waits instead of conflicting. */
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #histories = new Map<HistoryName, PgHistory<object>>();
  readonly #writeListeners: Array<(stats: StoreWriteStats) => void> = [];
  readonly #changeListeners: Array<(record: ChangeRecord) => void> = [];
  readonly #options: PostgresStoreOptions;
  readonly #commits: CommitQueue;
  readonly #feed: ChangeFeed;
  /** Every change-log record up to this sequence is in memory. */
  #appliedSeq: number;
  #catching: Promise<void> | null = null;
  #catchAgain = false;
  #closed = false;
  #pruneTimer: NodeJS.Timeout | null = null;

  private constructor(options: PostgresStoreOptions, pool: pg.Pool, loaded: Awaited<ReturnType<typeof loadState>>) {
    this.url = options.url;
    this.#options = options;
    this.#pool = pool;
    this.#state = loaded.state;
    this.#versions = loaded.versions;
    this.#appliedSeq = loaded.seq;
    this.#commits = new CommitQueue(pool, this.#origin, (batch, ms) => this.#committed(batch, ms));
    this.#feed = new ChangeFeed({
      url: options.url,
      origin: this.#origin,
      catchUp: () => this.catchUp(),
      onWarning: (message, details) => this.#warn(message, details),
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    });
  }

  /**
   * Connects, migrates the schema, loads every row and starts listening. Appliances opening
   * together take turns (an advisory lock) so that one migrates and the others find it done.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      // Two at least: opening holds one (the migration lock) while its first commit takes another.
      max: Math.max(2, options.poolSize ?? 8),
      connectionTimeoutMillis: 5_000,
      // A connection the network silently dropped must fail the write, not hold it forever.
      query_timeout: 15_000,
    });
    // An idle connection the server drops must not crash the process; the next query reconnects.
    pool.on('error', (err) => options.onWarning?.('an idle database connection failed', { err }));
    let store: PostgresStore | null = null;
    try {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migrateSchema(client);
        store = new PostgresStore(options, pool, await loadState(client));
        await store.#migrateDocument();
        store.#ensureCollections();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        client.release();
      }
      if (options.listen !== false) await store.#feed.start();
      store.#schedulePruning();
      return store;
    } catch (err) {
      await store?.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      throw storeErrorOf(err, 'open');
    }
  }

  get db(): Readonly<Db> {
    return this.#state as unknown as Db;
  }

  /** The change-log sequence memory is current to. */
  get appliedSeq(): number {
    return this.#appliedSeq;
  }

  async update<T>(mutate: (db: Db, histories: HistoryWriter) => T): Promise<T> {
    const maxAttempts = this.#options.maxAttempts ?? 10;
    let conflicts = 0;
    // Only the run that commits writes its history lines: a re-run after a conflict starts afresh.
    const appendHistories = async (histories: HistoryLine[]): Promise<void> => {
      await Promise.all(histories.map(({ name, line }) => this.history<object>(name).append(line)));
    };
    for (;;) {
      this.#assertOpen();
      const { result, changes, histories } = stageMutation(this.#state as unknown as Db, mutate);
      if (changes.length === 0) {
        await appendHistories(histories);
        return result;
      }
      const keys = changes.map((change) => rowKey(change.table, change.id));
      const busy = keys.flatMap((key) => this.#inflight.get(key) ?? []);
      if (busy.length > 0) {
        // Another write of this process holds these rows: run again on its outcome rather than conflict.
        await Promise.allSettled(busy);
        continue;
      }
      const committing = this.#commits.commit(
        changes,
        keys.map((key) => this.#versions.get(key) ?? 0),
      );
      const settled = committing.then(
        () => undefined,
        () => undefined,
      );
      for (const key of keys) this.#inflight.set(key, settled);
      let outcome: CommitOutcome;
      try {
        outcome = await committing;
      } finally {
        for (const key of keys) if (this.#inflight.get(key) === settled) this.#inflight.delete(key);
      }
      if ('seq' in outcome) {
        await appendHistories(histories);
        return result;
      }
      conflicts += 1;
      if (conflicts >= maxAttempts) {
        throw new TurnpikeError(
          'TP_ERR_STORE_CONFLICT',
          `gave up after ${conflicts} attempts: other writers kept changing the same rows`,
          { rows: outcome.conflicts.map(({ table, id }) => `${table}/${id}`) },
        );
      }
      // Spread the re-runs of writers that collided so that they do not collide again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * conflicts));
    }
  }

  history<T extends object = Record<string, unknown>>(name: HistoryName): History<T> {
    let history = this.#histories.get(name);
    if (!history) {
      history = new PgHistory<object>(this.#pool, name);
      this.#histories.set(name, history);
    }
    return history as PgHistory<T>;
  }

  onWrite(listener: (stats: StoreWriteStats) => void): void {
    this.#writeListeners.push(listener);
  }

  onChange(listener: (record: ChangeRecord) => void): void {
    this.#changeListeners.push(listener);
  }

  async isWritable(): Promise<boolean> {
    try {
      await this.#pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    await this.#feed.close();
    await this.#commits.idle();
    for (const history of this.#histories.values()) await history.drain().catch(() => undefined);
    await this.#catching?.catch(() => undefined);
    await this.#pool.end();
  }

  /**
   * Deletes change-log records older than `olderThanMs` and moves the horizon past them: readers
   * behind it reload every row instead of missing what was deleted. Returns how many went.
   */
  async pruneChangeLog(olderThanMs = this.#options.changeLogRetentionMs ?? DEFAULT_RETENTION_MS): Promise<number> {
    const { rows } = await this.#pool.query<{ pruned: string }>(
      `WITH gone AS (DELETE FROM change_log WHERE committed_at <= now() - make_interval(secs => $1) RETURNING seq),
            moved AS (UPDATE change_log_horizon
                         SET pruned_through = greatest(pruned_through, (SELECT coalesce(max(seq), 0) FROM gone)))
       SELECT count(*) AS pruned FROM gone`,
      [olderThanMs / 1000],
    );
    return Number(rows[0]!.pruned);
  }

  #schedulePruning(): void {
    const retention = this.#options.changeLogRetentionMs ?? DEFAULT_RETENTION_MS;
    this.#pruneTimer = setInterval(
      () => {
        this.pruneChangeLog(retention).catch((err: unknown) => this.#warn('pruning the change log failed', { err }));
      },
      Math.max(1_000, Math.min(retention / 4, 10 * 60 * 1000)),
    );
    this.#pruneTimer.unref();
  }

  /**
   * Applies the change log past what memory holds, in sequence order. Runs one at a time; a call
   * while one runs makes it run once more. Behind the log's pruning horizon, reloads every row.
   */
  catchUp(): Promise<void> {
    if (this.#catching) {
      this.#catchAgain = true;
      return this.#catching;
    }
    this.#catching = (async () => {
      try {
        do {
          this.#catchAgain = false;
          while (!this.#closed && (await this.#catchUpPage()) === CATCH_UP_PAGE);
        } while (this.#catchAgain && !this.#closed);
      } finally {
        this.#catching = null;
      }
    })();
    return this.#catching;
  }

  async #catchUpPage(): Promise<number> {
    const { rows } = await this.#pool.query<ChangeLogRow>(
      `SELECT h.pruned_through, l.seq, l.origin, l.changes
         FROM change_log_horizon h
         LEFT JOIN LATERAL (
           SELECT seq, origin, CASE WHEN origin = $2 THEN NULL ELSE changes END AS changes
             FROM change_log WHERE seq > $1 ORDER BY seq LIMIT ${CATCH_UP_PAGE}) l ON true`,
      [this.#appliedSeq, this.#origin],
    );
    if (rows.length === 0) return 0;
    if (Number(rows[0]!.pruned_through) > this.#appliedSeq) {
      await this.#reloadAll();
      return CATCH_UP_PAGE;
    }
    const entries = rows.filter((row) => row.seq !== null);
    // Own commits whose answer has not arrived (or never will: the connection broke after COMMIT).
    const unknownOwn = entries.filter((row) => row.changes === null && !this.#ownSeqs.has(Number(row.seq)));
    if (unknownOwn.length > 0) {
      const own = await this.#pool.query<{ seq: string; changes: RowChange[] }>(
        'SELECT seq, changes FROM change_log WHERE seq = ANY($1::bigint[])',
        [unknownOwn.map((row) => row.seq)],
      );
      const bySeq = new Map(own.rows.map((row) => [row.seq, row.changes]));
      for (const row of unknownOwn) row.changes = bySeq.get(row.seq) ?? [];
    }
    for (const row of entries) {
      const seq = Number(row.seq);
      if (seq <= this.#appliedSeq) continue;
      if (row.changes !== null) this.#apply(seq, row.changes);
      this.#ownSeqs.delete(seq);
      this.#appliedSeq = seq;
    }
    this.#pruneTombstones();
    return entries.length;
  }

  /** Replaces memory with every row as stored, announcing the rows that differ. */
  async #reloadAll(): Promise<void> {
    const client = await this.#pool.connect();
    let loaded: Awaited<ReturnType<typeof loadState>>;
    try {
      loaded = await loadState(client);
    } finally {
      client.release();
    }
    const changes: RowChange[] = [];
    for (const key of this.#versions.keys()) {
      if (loaded.versions.has(key)) continue;
      const [table, id] = key.split('\u0000') as [string, string];
      changes.push({ table, id, value: null });
    }
    for (const [key, version] of loaded.versions) {
      if (this.#versions.get(key) === version) continue;
      const [table, id] = key.split('\u0000') as [string, string];
      changes.push({ table, id, value: rowValue(loaded.state, table, id) });
    }
    applyChanges(this.#state, changes);
    this.#versions.clear();
    for (const [key, version] of loaded.versions) this.#versions.set(key, version);
    this.#tombstones.clear();
    this.#ownSeqs.clear();
    this.#appliedSeq = loaded.seq;
    if (changes.length > 0) this.#announce({ seq: loaded.seq, changes });
  }

  /** Applies what a batch committed (own writes) and what conflicts showed (others' writes). */
  #committed(batch: Array<{ changes: RowChange[]; outcome: CommitOutcome }>, ms: number): void {
    for (const { changes, outcome } of batch) {
      if ('seq' in outcome) {
        // The change feed may have applied it already (its answer came late).
        if (outcome.seq <= this.#appliedSeq) continue;
        this.#ownSeqs.add(outcome.seq);
        this.#apply(outcome.seq, changes);
      } else {
        this.#applyCurrent(outcome.conflicts, outcome.asOf);
      }
    }
    const stats: StoreWriteStats = { batchSize: batch.length, ms, file: 'wal' };
    for (const listener of this.#writeListeners) listener(stats);
  }

  #applyCurrent(rows: CurrentRow[], asOf: number): void {
    const changes: RowChange[] = [];
    for (const row of rows) {
      const version = row.value === null ? asOf : row.version;
      if (this.#admit(row.table, row.id, version, row.value === null)) changes.push(row);
    }
    if (changes.length > 0) {
      applyChanges(this.#state, changes);
      this.#announce({ seq: asOf, changes });
    }
  }

  /** Applies the rows of change record `seq` that are newer than what memory holds. */
  #apply(seq: number, changes: readonly RowChange[]): void {
    const admitted = changes.filter((change) => this.#admit(change.table, change.id, seq, change.value === null));
    if (admitted.length === 0) return;
    applyChanges(this.#state, admitted);
    this.#announce({ seq, changes: admitted });
  }

  /** Records `version` for the row when it is newer than the one in memory; false when it is not. */
  #admit(table: string, id: string, version: number, deleted: boolean): boolean {
    const key = rowKey(table, id);
    const known = this.#versions.get(key) ?? this.#tombstones.get(key) ?? 0;
    if (version <= known) return false;
    if (deleted) {
      this.#versions.delete(key);
      this.#tombstones.set(key, version);
    } else {
      this.#versions.set(key, version);
      this.#tombstones.delete(key);
    }
    return true;
  }

  /** A tombstone at or below the applied sequence can no longer meet an older write. */
  #pruneTombstones(): void {
    for (const [key, seq] of this.#tombstones) if (seq <= this.#appliedSeq) this.#tombstones.delete(key);
    for (const seq of this.#ownSeqs) if (seq <= this.#appliedSeq) this.#ownSeqs.delete(seq);
  }

  #announce(record: ChangeRecord): void {
    for (const listener of this.#changeListeners) listener(record);
  }

  /**
   * Brings the state document up to the schema this Turnpike writes (the same migrations as the
   * embedded store), as one ordinary commit.
   */
  async #migrateDocument(): Promise<void> {
    const current = this.#state.schemaVersion;
    if (current === LATEST_SCHEMA_VERSION) return;
    let migrated: Record<string, unknown>;
    try {
      migrated = migrate({ ...this.#state }).db as unknown as Record<string, unknown>;
    } catch (err) {
      if (err instanceof MigrationError) throw new TurnpikeError('TP_ERR_STORE_CORRUPT', err.message);
      throw err;
    }
    await this.update((draft) => replaceState(draft, migrated));
  }

  /** Every collection is a record in memory, empty ones included, as the appliance reads them. */
  #ensureCollections(): void {
    for (const collection of COLLECTIONS)
      if (valueAt(this.#state, collection) === undefined) setValueAt(this.#state, collection, {});
  }

  #assertOpen(): void {
    if (this.#closed) throw new TurnpikeError('TP_ERR_STORE_LOCKED', 'this store is closed');
  }

  #warn(message: string, details: Record<string, unknown>): void {
    this.#options.onWarning?.(message, details);
  }
}

function rowValue(state: Record<string, unknown>, table: string, id: string): unknown {
  if (kindOf(table) !== 'collection') return valueAtPath(state, id);
  return (valueAtPath(state, table) as Record<string, unknown> | undefined)?.[id] ?? null;
}

function valueAtPath(state: Record<string, unknown>, path: string): unknown {
  let value: unknown = state;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  return value ?? null;
}
