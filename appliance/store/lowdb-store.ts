import { open, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { TurnpikeError } from '../../shared/errors.js';
import type { Db } from '../domain/model.js';
import { applyChanges, loggedChangesOf, type ChangeRecord } from './change-record.js';
import { CHECKPOINT_SEQ_FIELD, writeCheckpoint } from './checkpoint-file.js';
import { ensurePrivateDir, FILE_MODE, readFileIfExists, writeFileDurably } from './durable-file.js';
import { HistoryLog } from './history-log.js';
import { emptyDb, migrate, MigrationError } from './migrations.js';
import { RowIds } from './row-ids.js';
import { stageMutation } from './staged-mutation.js';
import type { HistoryName, HistoryWriter, Store, StoreWriteStats } from './store.js';
import { readLog, WriteAheadLog } from './write-ahead-log.js';

export interface CheckpointPolicy {
  /** Checkpoint once the log since the last checkpoint holds this many bytes (bounds replay time). */
  maxLogBytes: number;
  /** Checkpoint at most this long after a change (bounds how much of the log a start reads). */
  intervalMs: number;
}

export interface LowdbStoreOptions {
  dir: string;
  history?: { maxBytes: number; keep: number };
  /** Skip the single-writer lock and write nothing (read-only tools such as `backup`). */
  readOnly?: boolean;
  checkpoint?: Partial<CheckpointPolicy>;
  /** Hears what the store repaired on its own at open (a torn last log line). */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

const DEFAULT_CHECKPOINT: CheckpointPolicy = { maxLogBytes: 32 * 1024 * 1024, intervalMs: 60_000 };

/**
 * lowdb adapter for `db.json`, the checkpoint: reads and migrates it, and writes it in slices
 * (see `writeCheckpoint`) stamped with the last change record it holds.
 */
class CheckpointAdapter implements Adapter<Db> {
  readonly #path: string;
  /** The last change record the file read holds. */
  seq = 0;
  /** Whether the file read needed a migration (or did not exist). */
  migrated = false;
  #pending: { seq: number; rowIds: RowIds; beforeRename: () => Promise<void> } | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  async read(): Promise<Db | null> {
    const text = await readFileIfExists(this.#path);
    if (text === null) {
      this.migrated = true;
      return null;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw corruptStore(this.#path, (err as Error).message);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw corruptStore(this.#path, 'the top level is not an object');
    }
    const { [CHECKPOINT_SEQ_FIELD]: seq, ...document } = parsed as Record<string, unknown>;
    this.seq = typeof seq === 'number' ? seq : 0;
    try {
      const { db, applied } = migrate(document);
      this.migrated = applied.length > 0;
      return db;
    } catch (err) {
      if (err instanceof MigrationError) throw corruptStore(this.#path, err.message);
      throw err;
    }
  }

  /** Sets what the next `write` stamps the file with and awaits before it replaces the old one. */
  prepare(seq: number, rowIds: RowIds, beforeRename: () => Promise<void>): void {
    this.#pending = { seq, rowIds, beforeRename };
  }

  async write(data: Db): Promise<void> {
    const pending = this.#pending ?? { seq: this.seq, rowIds: new RowIds(data), beforeRename: async () => undefined };
    this.#pending = null;
    await writeCheckpoint(this.#path, data, pending.seq, pending.rowIds, pending.beforeRename);
    this.seq = pending.seq;
  }
}

function corruptStore(path: string, reason: string): TurnpikeError {
  return new TurnpikeError(
    'TP_ERR_STORE_CORRUPT',
    `${path} cannot be read (${reason}). It was left untouched. Restore a backup with: turnpike restore BACKUP_FILE`,
    { path },
  );
}

export const DB_FILE = 'db.json';
const LOCK_FILE = 'db.lock';

/** Reads the pid in the lock file and tells whether that process is alive. */
export async function storeOwnerPid(dir: string): Promise<number | null> {
  const text = await readFileIfExists(join(dir, LOCK_FILE));
  const pid = text === null ? NaN : Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Deletes temporary checkpoint files a killed writer left behind; db.json and the log are whole. */
async function removeAbandonedCheckpoints(dir: string): Promise<void> {
  const names = await readdir(dir);
  for (const name of names) if (name.startsWith(`.${DB_FILE}.`) && name.endsWith('.tmp')) await unlink(join(dir, name));
}

async function takeLock(dir: string): Promise<void> {
  const owner = await storeOwnerPid(dir);
  if (owner !== null && owner !== process.pid) {
    throw new TurnpikeError(
      'TP_ERR_STORE_LOCKED',
      `the store in ${dir} is in use by process ${owner}; stop it first or send the command through it`,
      { pid: owner },
    );
  }
  await writeFile(join(dir, LOCK_FILE), String(process.pid), { mode: FILE_MODE });
}

/**
 * The embedded store. Current state lives in memory; a write stages the mutation (rows it
 * touches), applies it, and is acknowledged once its change record is fsynced in the write-ahead
 * log. `db.json` is a checkpoint written in the background; at open, the log past it is replayed.
 */
export class LowdbStore implements Store {
  readonly dir: string;
  readonly path: string;
  readonly #low: Low<Db>;
  readonly #adapter: CheckpointAdapter;
  readonly #wal: WriteAheadLog | null;
  readonly #rowIds: RowIds;
  readonly #histories = new Map<HistoryName, HistoryLog<object>>();
  readonly #writeListeners: Array<(stats: StoreWriteStats) => void> = [];
  readonly #changeListeners: Array<(record: ChangeRecord) => void> = [];
  readonly #options: LowdbStoreOptions;
  readonly #policy: CheckpointPolicy;
  #checkpointTimer: NodeJS.Timeout | null = null;
  #checkpointing: Promise<void> | null = null;
  #closed = false;

  private constructor(options: LowdbStoreOptions, low: Low<Db>, adapter: CheckpointAdapter, wal: WriteAheadLog | null) {
    this.#options = options;
    this.#policy = { ...DEFAULT_CHECKPOINT, ...options.checkpoint };
    this.dir = options.dir;
    this.path = join(options.dir, DB_FILE);
    this.#low = low;
    this.#adapter = adapter;
    this.#wal = wal;
    this.#rowIds = new RowIds(low.data);
  }

  /**
   * Opens (creating when absent) the store in `dir`: reads the checkpoint, runs migrations,
   * replays the log past the checkpoint and takes the single-writer lock. A corrupt checkpoint
   * or log stops here with TP_ERR_STORE_CORRUPT and changes no file.
   */
  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    await ensurePrivateDir(options.dir);
    const adapter = new CheckpointAdapter(join(options.dir, DB_FILE));
    const low = new Low<Db>(adapter, emptyDb());
    await low.read();
    const readOnly = options.readOnly === true;
    if (!readOnly) {
      await takeLock(options.dir);
      await removeAbandonedCheckpoints(options.dir);
    }
    const tail = await readLog(options.dir, adapter.seq, {
      repair: !readOnly,
      onTornLine: (file, offset) =>
        options.onWarning?.(
          `dropped a torn last line of ${file} at byte ${offset}: a write cut short by a crash, never acknowledged`,
          {
            file,
            offset,
          },
        ),
    });
    for (const record of tail.records) applyChanges(low.data, record.changes);
    const store: LowdbStore = new LowdbStore(
      options,
      low,
      adapter,
      readOnly ? null : new WriteAheadLog(options.dir, tail, (size, ms) => store.#reportWrite('wal', size, ms)),
    );
    if (readOnly) return store;
    // A migrated document is written before anything else happens; a replayed log only needs
    // folding into db.json soon, and the start need not wait for that.
    if (adapter.migrated) await store.checkpoint();
    else if (tail.records.length > 0) store.#runCheckpointInBackground();
    return store;
  }

  get db(): Readonly<Db> {
    return this.#low.data;
  }

  async update<T>(mutate: (db: Db, histories: HistoryWriter) => T): Promise<T> {
    const wal = this.#writableLog();
    const { result, changes, histories } = stageMutation(this.#low.data, mutate);
    // The history lines and the change are fsynced side by side, each file sharing its fsyncs.
    const appended = histories.map(({ name, line }) => this.history<object>(name).append(line));
    // Nothing changed: nothing to write, but what this answer may rest on must be durable first.
    if (changes.length === 0) {
      await Promise.all([wal.durable(), ...appended]);
      return result;
    }
    // The log line is worked out before the changes are applied: it patches the rows as they were.
    const { seq, durable } = wal.append(loggedChangesOf(this.#low.data, changes));
    applyChanges(this.#low.data, changes);
    this.#rowIds.apply(changes);
    const record: ChangeRecord = { seq, changes };
    for (const listener of this.#changeListeners) listener(record);
    this.#checkpointSoon(wal);
    await Promise.all([durable, ...appended]);
    return result;
  }

  /**
   * Writes `db.json` now, holding every change made so far, and deletes the log segments it
   * makes unnecessary. Runs one at a time; the event loop keeps turning while it runs.
   */
  async checkpoint(): Promise<void> {
    while (this.#checkpointing) await this.#checkpointing;
    const wal = this.#writableLog();
    const seq = wal.lastSeq;
    if (seq === this.#adapter.seq && !this.#adapter.migrated) return;
    this.#checkpointing = (async () => {
      const started = performance.now();
      wal.roll();
      // The file may hold changes past `seq` made while it was written: they must be in the log first.
      this.#adapter.prepare(seq, this.#rowIds, () => wal.durable());
      await this.#low.write();
      this.#adapter.migrated = false;
      this.#reportWrite('checkpoint', 1, performance.now() - started);
      await wal.dropThrough(seq);
    })();
    try {
      await this.#checkpointing;
    } finally {
      this.#checkpointing = null;
    }
  }

  #checkpointSoon(wal: WriteAheadLog): void {
    if (wal.bytesSinceRoll >= this.#policy.maxLogBytes && !this.#checkpointing) {
      this.#runCheckpointInBackground();
      return;
    }
    if (this.#checkpointTimer) return;
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = null;
      this.#runCheckpointInBackground();
    }, this.#policy.intervalMs);
    this.#checkpointTimer.unref();
  }

  #runCheckpointInBackground(): void {
    // A failed checkpoint loses nothing: the log keeps every change and the next one retries.
    this.checkpoint().catch((err: unknown) =>
      this.#options.onWarning?.(`checkpoint of ${this.path} failed; the write-ahead log still holds every change`, {
        err,
      }),
    );
  }

  #writableLog(): WriteAheadLog {
    if (!this.#wal) throw new TurnpikeError('TP_ERR_STORE_LOCKED', 'this store was opened read-only');
    if (this.#closed) throw new TurnpikeError('TP_ERR_STORE_LOCKED', 'this store is closed');
    return this.#wal;
  }

  #reportWrite(file: StoreWriteStats['file'], batchSize: number, ms: number): void {
    for (const listener of this.#writeListeners) listener({ batchSize, ms, file });
  }

  history<T extends object = Record<string, unknown>>(name: HistoryName): HistoryLog<T> {
    let log = this.#histories.get(name);
    if (!log) {
      log = new HistoryLog<object>(this.dir, name, this.#options.history ?? { maxBytes: 16 * 1024 * 1024, keep: 10 });
      this.#histories.set(name, log);
    }
    return log as HistoryLog<T>;
  }

  onWrite(listener: (stats: StoreWriteStats) => void): void {
    this.#writeListeners.push(listener);
  }

  onChange(listener: (record: ChangeRecord) => void): void {
    this.#changeListeners.push(listener);
  }

  async isWritable(): Promise<boolean> {
    const probe = join(this.dir, `.probe.${process.pid}`);
    try {
      const handle = await open(probe, 'w', FILE_MODE);
      await handle.sync();
      await handle.close();
      await unlink(probe);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = null;
    if (this.#wal) {
      // A clean stop leaves db.json current, so the next start reads no log.
      await this.checkpoint();
      this.#closed = true;
      await this.#wal.close();
    }
    this.#closed = true;
    for (const log of this.#histories.values()) await log.close();
    if (this.#wal && (await storeOwnerPid(this.dir)) === process.pid) {
      await unlink(join(this.dir, LOCK_FILE)).catch(() => undefined);
    }
  }
}

/** Copies a consistent `db.json`, the log past its checkpoint included, to `target` (durably, 0600). */
export async function backupStore(dir: string, target: string): Promise<void> {
  const store = await LowdbStore.open({ dir, readOnly: true });
  await writeFileDurably(target, JSON.stringify(store.db, null, 2));
}

/** Replaces `db.json` with a validated backup. Refuses while the appliance runs. */
export async function restoreStore(dir: string, source: string): Promise<void> {
  const owner = await storeOwnerPid(dir);
  if (owner !== null) {
    throw new TurnpikeError('TP_ERR_STORE_LOCKED', `stop the appliance (pid ${owner}) before restoring`);
  }
  const text = await readFile(source, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TurnpikeError('TP_ERR_STORE_CORRUPT', `${source} is not a valid backup: ${(err as Error).message}`);
  }
  const { db } = migrate(parsed as Record<string, unknown>);
  await ensurePrivateDir(dir);
  // The backup is the state wanted: changes logged since it was taken must not replay onto it.
  const { lastSeq } = await readLog(dir, null, { repair: false, onTornLine: () => undefined });
  await writeFileDurably(join(dir, DB_FILE), JSON.stringify({ [CHECKPOINT_SEQ_FIELD]: lastSeq, ...db }));
}
