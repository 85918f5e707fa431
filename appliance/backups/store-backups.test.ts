import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore } from '../open-store.js';
import { LATEST_SCHEMA_VERSION } from '../store/migrations.js';
import { BACKUP_DIR, backupBeforeMigration, writeDailyBackup } from './store-backups.js';

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-backups-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A store as an older Turnpike left it: schema version 3, one user. */
const OLDER_STORE = JSON.stringify({
  schemaVersion: 3,
  users: { u1: { id: 'u1', email: 'a@example.test', role: 'guest' } },
});

test('before migrations change an older store, its files are copied as they were, privately; the newest `keep` copies stay', async (t) => {
  const dir = await dataDir(t);
  for (let day = 1; day <= 4; day++) {
    await writeFile(join(dir, 'db.json'), OLDER_STORE);
    const backup = await backupBeforeMigration(dir, { keep: 2 }, new Date(`2026-12-0${day}T03:00:00Z`));
    assert.ok(backup, 'a migration is due, so a backup is taken');
    assert.equal(await readFile(join(backup, 'db.json'), 'utf8'), OLDER_STORE, 'byte for byte the older version');
    assert.equal((await stat(join(backup, 'db.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(backup)).mode & 0o777, 0o700);
    const store = await openStore({ dir });
    assert.equal(store.db.schemaVersion, LATEST_SCHEMA_VERSION, 'then the store migrates');
    await store.close();
  }
  assert.deepEqual((await readdir(join(dir, BACKUP_DIR))).sort(), [
    'pre-migration-v3-20261203T030000Z',
    'pre-migration-v3-20261204T030000Z',
  ]);
  assert.equal(await backupBeforeMigration(dir, { keep: 2 }, new Date()), null, 'a current store needs no copy');
});

test('a new data directory gets no backup, and a damaged db.json is left to the store to report', async (t) => {
  const dir = await dataDir(t);
  assert.equal(await backupBeforeMigration(dir, { keep: 3 }, new Date()), null);
  await writeFile(join(dir, 'db.json'), '{"schemaVersion": 1, "users": {');
  assert.equal(await backupBeforeMigration(dir, { keep: 3 }, new Date()), null);
});

test('one backup of current state a day, restorable JSON, the newest `keep` kept', async (t) => {
  const dir = await dataDir(t);
  const store = await openStore({ dir });
  await store.update((db) => {
    db.sequences.invoices = 41;
  });
  const first = await writeDailyBackup(dir, store.db, { keep: 3 }, new Date('2026-12-01T10:00:00Z'));
  assert.equal(first, join(dir, BACKUP_DIR, 'daily-2026-12-01.json'));
  assert.equal(
    await writeDailyBackup(dir, store.db, { keep: 3 }, new Date('2026-12-01T23:00:00Z')),
    null,
    'once a day',
  );
  assert.equal(JSON.parse(await readFile(first, 'utf8')).sequences.invoices, 41);
  assert.equal((await stat(first)).mode & 0o777, 0o600);
  for (const day of ['02', '03', '04', '05']) {
    await writeDailyBackup(dir, store.db, { keep: 3 }, new Date(`2026-12-${day}T10:00:00Z`));
  }
  assert.deepEqual((await readdir(join(dir, BACKUP_DIR))).sort(), [
    'daily-2026-12-03.json',
    'daily-2026-12-04.json',
    'daily-2026-12-05.json',
  ]);
  await store.close();
});
