import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { TurnpikeError } from '../errors.js';
import type { Db } from '../domain/model.js';
import { ensurePrivateDir, FILE_MODE, readFileIfExists, writeFileDurably } from './durable-file.js';
import { GroupCommit } from './group-commit.js';
import { HistoryLog } from './history-log.js';
import { emptyDb, migrate, MigrationError } from './migrations.js';
import type { HistoryName, JournalLine, JournalName, JournalReplayer, Store, StoreWriteStats } from './store.js';

export type JournalReplayers = Readonly<Record<JournalName, JournalReplayer>>;

export interface LowdbStoreOptions {
  dir: string;
  history?: { maxBytes: number; keep: number };
  /** Skip the single-writer lock (read-only tools such as `backup`). */
  readOnly?: boolean;
  /**
   * How each journaled history's lines re-apply to current state. Without them a store whose
   * journal holds lines past its checkpoint refuses to open rather than lose those changes.
   */
  journals?: JournalReplayers;
  /** How long a journaled change may wait for `db.json` to catch up (default 1 s). */
  checkpointMs?: number;
}

/** lowdb adapter whose writes are durable (temp file, fsync, rename, fsync dir). */
class DurableJsonAdapter implements Adapter<Db> {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async read(): Promise<Db | null> {
    const text = await readFileIfExists(this.#path);
    if (text === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw corruptStore(this.#path, (err as Error).message);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw corruptStore(this.#path, 'the top level is not an object');
    }
    try {
      return migrate(parsed as Record<string, unknown>).db;
    } catch (err) {
      if (err instanceof MigrationError) throw corruptStore(this.#path, err.message);
      throw err;
    }
  }

  write(data: Db): Promise<void> {
    return writeFileDurably(this.#path, JSON.stringify(data));
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
const JOURNAL_NAMES: readonly JournalName[] = ['accounting'];
const isJournal = (name: HistoryName): name is JournalName => (JOURNAL_NAMES as readonly HistoryName[]).includes(name);
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

export class LowdbStore implements Store {
  readonly dir: string;
  readonly path: string;
  readonly #low: Low<Db>;
  readonly #commit: GroupCommit;
  readonly #histories = new Map<HistoryName, HistoryLog<object>>();
  readonly #listeners: Array<(stats: StoreWriteStats) => void> = [];
  readonly #options: LowdbStoreOptions;
  /** Per journal, the sequence number of the last line applied to memory (written or not). */
  readonly #journalSeq: Record<string, number>;
  #checkpointTimer: NodeJS.Timeout | null = null;
  #reportWrite(journal: JournalName | null, batchSize: number, ms: number): void {
    for (const listener of this.#listeners) listener({ batchSize, ms, journal });
  }

  private constructor(options: LowdbStoreOptions, low: Low<Db>) {
    this.#options = options;
    this.dir = options.dir;
    this.path = join(options.dir, DB_FILE);
    this.#low = low;
    this.#journalSeq = { ...low.data.journalCheckpoints };
    this.#commit = new GroupCommit(
      () => {
        // The snapshot taken by this write reflects every journaled line applied so far.
        Object.assign(this.#low.data.journalCheckpoints, this.#journalSeq);
        return this.#low.write();
      },
      this.#reportWrite.bind(this, null),
    );
  }

  /**
   * Opens (creating when absent) the store in `dir`, runs migrations and takes
   * the single-writer lock. A corrupt file stops here with TP_ERR_STORE_CORRUPT.
   */
  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    await ensurePrivateDir(options.dir);
    const path = join(options.dir, DB_FILE);
    const before = await readFileIfExists(path);
    const low = new Low<Db>(new DurableJsonAdapter(path), emptyDb());
    await low.read();
    const store = new LowdbStore(options, low);
    const replayed = await store.#replayJournals();
    if (options.readOnly) return store;
    await takeLock(options.dir);
    const migrated = before === null || JSON.stringify(low.data) !== before;
    if (migrated || replayed > 0) await store.update(() => undefined);
    return store;
  }

  /** Applies journaled lines newer than `db.json`'s checkpoints; returns how many. */
  async #replayJournals(): Promise<number> {
    let replayed = 0;
    for (const name of JOURNAL_NAMES) {
      const checkpoint = this.#journalSeq[name] ?? 0;
      const lines = await this.history<Partial<JournalLine>>(name).readSince(
        (line) => typeof line.seq === 'number' && line.seq <= checkpoint,
      );
      const pending = lines.filter((line): line is JournalLine => typeof line.seq === 'number');
      if (pending.length === 0) continue;
      const replay = this.#options.journals?.[name];
      if (!replay) {
        throw new TurnpikeError(
          'TP_ERR_STORE_CORRUPT',
          `${pending.length} ${name} records in ${this.dir} are newer than db.json; open the store through the appliance (turnpike start or a turnpike command) so they are replayed`,
          { journal: name },
        );
      }
      for (const line of pending) replay(this.#low.data, line);
      this.#journalSeq[name] = pending.at(-1)!.seq;
      replayed += pending.length;
    }
    return replayed;
  }

  get db(): Readonly<Db> {
    return this.#low.data;
  }

  async update<T>(mutate: (db: Db) => T): Promise<T> {
    if (this.#options.readOnly) throw new TurnpikeError('TP_ERR_STORE_LOCKED', 'this store was opened read-only');
    const result = mutate(this.#low.data);
    await this.#commit.commit();
    return result;
  }

  async journaled<R extends object, T>(name: JournalName, record: R, apply: (db: Db, record: R) => T): Promise<T> {
    if (this.#options.readOnly) throw new TurnpikeError('TP_ERR_STORE_LOCKED', 'this store was opened read-only');
    const result = apply(this.#low.data, record);
    const seq = (this.#journalSeq[name] ?? 0) + 1;
    this.#journalSeq[name] = seq;
    const written = this.history<JournalLine<R>>(name).append({ seq, ...record });
    this.#checkpointSoon();
    await written;
    return result;
  }

  /** Brings `db.json` up to the journals within `checkpointMs`, so a replay stays short. */
  #checkpointSoon(): void {
    if (this.#checkpointTimer) return;
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = null;
      // A failed checkpoint loses nothing: the lines stay in the journal and the next change retries.
      this.#commit.commit().catch(() => undefined);
    }, this.#options.checkpointMs ?? 1000);
    this.#checkpointTimer.unref();
  }

  history<T extends object = Record<string, unknown>>(name: HistoryName): HistoryLog<T> {
    let log = this.#histories.get(name);
    if (!log) {
      log = new HistoryLog<object>(
        this.dir,
        name,
        this.#options.history ?? { maxBytes: 16 * 1024 * 1024, keep: 10 },
        // A journal's fsync acknowledges changes to current state: it is a store write too.
        isJournal(name) ? this.#reportWrite.bind(this, name) : undefined,
      );
      this.#histories.set(name, log);
    }
    return log as HistoryLog<T>;
  }

  onWrite(listener: (stats: StoreWriteStats) => void): void {
    this.#listeners.push(listener);
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
    if (this.#checkpointTimer) {
      clearTimeout(this.#checkpointTimer);
      this.#checkpointTimer = null;
      await this.#commit.commit();
    }
    await this.#commit.drain();
    for (const log of this.#histories.values()) await log.close();
    if (!this.#options.readOnly && (await storeOwnerPid(this.dir)) === process.pid) {
      await unlink(join(this.dir, LOCK_FILE)).catch(() => undefined);
    }
  }
}

/** Copies a consistent `db.json`, journaled changes included, to `target` (durably, mode 0600). */
export async function backupStore(dir: string, target: string, journals: JournalReplayers): Promise<void> {
  const store = await LowdbStore.open({ dir, readOnly: true, journals });
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
  // The backup is the state wanted: journal lines written since it was taken must not replay onto it.
  for (const name of JOURNAL_NAMES) db.journalCheckpoints[name] = await lastJournalSeq(dir, name);
  await writeFileDurably(join(dir, DB_FILE), JSON.stringify(db));
}

async function lastJournalSeq(dir: string, name: JournalName): Promise<number> {
  const log = new HistoryLog<Partial<JournalLine>>(dir, name, { maxBytes: Number.MAX_SAFE_INTEGER, keep: 0 });
  return (await log.findLast((line) => typeof line.seq === 'number'))?.seq ?? 0;
}
