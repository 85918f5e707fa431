import { chmod, copyFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import { ensurePrivateDir, FILE_MODE, readFileIfExists, writeFileDurably } from '../store/durable-file.js';
import { LATEST_SCHEMA_VERSION } from '../store/migrations.js';

/** Where automatic backups go: beside the store, private like it. */
export const BACKUP_DIR = 'backups';

/** The files of the embedded store: the checkpoint and the write-ahead log's segments. */
const STORE_FILE = /^(db\.json|wal\.\d+\.jsonl)$/;
const PRE_MIGRATION = /^pre-migration-v\d+-\d{8}T\d{6}Z$/;
const DAILY = /^daily-\d{4}-\d{2}-\d{2}\.json$/;

export interface BackupPolicy {
  /** How many backups of each kind to keep (the newest). */
  keep: number;
}

const stampOf = (now: Date): string =>
  now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
const dayOf = (now: Date): string => now.toISOString().slice(0, 10);

/** The schema version of the store in `dir`, or null when it has none yet (a new store). */
async function schemaVersionOf(dir: string): Promise<number | null> {
  const text = await readFileIfExists(join(dir, 'db.json'));
  if (text === null) return null;
  try {
    const doc = JSON.parse(text) as { schemaVersion?: unknown };
    return typeof doc.schemaVersion === 'number' ? doc.schemaVersion : 0;
  } catch {
    // A damaged file is the store's to report (and never overwritten); it is not ours to copy.
    return null;
  }
}

/** Deletes the oldest entries matching `pattern` in `dir` beyond the newest `keep` (names sort by time). */
async function prune(dir: string, pattern: RegExp, keep: number): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => pattern.test(name)).sort();
  const stale = names.slice(0, Math.max(0, names.length - keep));
  for (const name of stale) await rm(join(dir, name), { recursive: true, force: true });
  return stale;
}

/**
 * Before an upgrade's migrations change the store in `dir`: copies its files exactly as the older
 * version left them (db.json and the write-ahead log) to `backups/pre-migration-v<from>-<time>/`,
 * and keeps the newest `keep` of those. Nothing is copied when no migration is due. Returns the
 * backup's directory, or null. To go back: stop, copy the files of that directory back, start
 * the older version.
 */
export async function backupBeforeMigration(dir: string, policy: BackupPolicy, now: Date): Promise<string | null> {
  const version = await schemaVersionOf(dir);
  if (version === null || version >= LATEST_SCHEMA_VERSION) return null;
  const root = join(dir, BACKUP_DIR);
  const target = join(root, `pre-migration-v${version}-${stampOf(now)}`);
  await ensurePrivateDir(target);
  try {
    for (const name of (await readdir(dir)).filter((file) => STORE_FILE.test(file))) {
      await copyFile(join(dir, name), join(target, name));
      await chmod(join(target, name), FILE_MODE);
    }
  } catch (err) {
    throw new TurnpikeError(
      'TP_ERR_STORE_UNAVAILABLE',
      `could not back up ${dir} before migrating it from schema ${version} to ${LATEST_SCHEMA_VERSION} (${(err as Error).message}); nothing was migrated`,
      { dir },
    );
  }
  await prune(root, PRE_MIGRATION, policy.keep);
  return target;
}

/**
 * Writes today's backup of current state to `backups/daily-YYYY-MM-DD.json` (mode 0600, atomic;
 * restorable with `turnpike restore`) unless it exists, and keeps the newest `keep`. Returns the
 * file written, or null when today's was already there.
 */
export async function writeDailyBackup(
  dir: string,
  state: Readonly<Db>,
  policy: BackupPolicy,
  now: Date,
): Promise<string | null> {
  const root = join(dir, BACKUP_DIR);
  await ensurePrivateDir(root);
  const target = join(root, `daily-${dayOf(now)}.json`);
  const existing = await readdir(root);
  if (existing.includes(`daily-${dayOf(now)}.json`)) return null;
  await writeFileDurably(target, JSON.stringify(state));
  await prune(root, DAILY, policy.keep);
  return target;
}
