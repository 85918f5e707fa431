import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LowdbStore } from '../store/lowdb-store.js';
import { HISTORY_NAMES } from '../store/store.js';
import type { StoreExport } from '../store/store-transfer.js';
import { requirePostgres, startPostgres } from '../testing/postgres-server.js';
import { userRecord } from '../testing/user-record.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./turnpike.ts', import.meta.url));

async function turnpike(configFile: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', cli, '--config', configFile, ...args], {
    env: { ...process.env, TURNPIKE_CONFIG: '' },
  });
  return stdout.trim();
}

/** A venue's store with rows in several collections, documents and every kind of history. */
async function seedVenue(dir: string): Promise<void> {
  const store = await LowdbStore.open({ dir });
  await store.update((db) => {
    for (let i = 0; i < 50; i += 1) db.users[`u${i}`] = userRecord({ id: `u${i}` });
    db.settings.venueName = 'Harbour Café';
    db.sequences.invoice = 42;
  });
  await store.update((db) => {
    delete db.users.u7;
  });
  await store.history('audit').append({ at: 1, action: 'user.create', target: 'u1' });
  await store.history('audit').append({ at: 2, action: 'user.delete', target: 'u7' });
  await store.history('accounting').append({ sessionId: 's1', octets: 1234 });
  await store.history('coa').append({ sessionId: 's1', outcome: 'ack' });
  await store.close();
}

test('turnpike db export and import move a lowdb store to PostgreSQL and back, state and histories intact', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'tp-db-cli-'));
  t.after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const configFile = join(dir, 'turnpike.json');
  await writeFile(configFile, JSON.stringify({ dataDir: join(dir, 'var'), logLevel: 'silent' }));
  const original = join(dir, 'original');
  await seedVenue(original);

  assert.match(await turnpike(configFile, 'db', 'migrate', '--url', server.url), /migrated to version 1/);
  assert.match(await turnpike(configFile, 'db', 'migrate', '--url', server.url), /already at version 1/);

  const fromLowdb = join(dir, 'from-lowdb.json');
  assert.match(
    await turnpike(configFile, 'db', 'export', fromLowdb, '--driver', 'lowdb', '--data-dir', original),
    /50 rows and 4 history records/,
  );
  assert.match(await turnpike(configFile, 'db', 'import', fromLowdb, '--url', server.url), /imported 50 rows/);
  await assert.rejects(
    turnpike(configFile, 'db', 'import', fromLowdb, '--url', server.url),
    /not empty/,
    'an import never merges into a store that holds something',
  );

  const fromPostgres = join(dir, 'from-postgres.json');
  await turnpike(configFile, 'db', 'export', fromPostgres, '--url', server.url);
  const back = join(dir, 'back');
  await turnpike(configFile, 'db', 'import', fromPostgres, '--driver', 'lowdb', '--data-dir', back);

  const first = JSON.parse(await readFile(fromLowdb, 'utf8')) as StoreExport;
  const second = JSON.parse(await readFile(fromPostgres, 'utf8')) as StoreExport;
  assert.deepEqual(second.state, first.state, 'PostgreSQL held exactly what lowdb held');
  assert.deepEqual(second.histories, first.histories);

  // On PostgreSQL, `backup` (the package's pre-upgrade step) is an export, and `restore` points at import.
  const pgConfig = join(dir, 'postgres.json');
  await writeFile(
    pgConfig,
    JSON.stringify({
      dataDir: join(dir, 'var'),
      logLevel: 'silent',
      store: { driver: 'postgres', postgres: { url: server.url } },
    }),
  );
  const backup = join(dir, 'backup.json');
  assert.match(await turnpike(pgConfig, 'backup', backup), /exported/);
  assert.deepEqual((JSON.parse(await readFile(backup, 'utf8')) as StoreExport).state, second.state);
  await assert.rejects(turnpike(pgConfig, 'restore', backup), /db import/);

  const before = await LowdbStore.open({ dir: original, readOnly: true });
  const after = await LowdbStore.open({ dir: back, readOnly: true });
  assert.deepEqual(after.db, before.db, 'the round trip ends where it started');
  for (const name of HISTORY_NAMES) {
    assert.deepEqual(await after.history(name).readAll(), await before.history(name).readAll(), name);
  }
  assert.equal(after.db.users.u7, undefined);
  assert.equal(after.db.settings.venueName, 'Harbour Café');
  await before.close();
  await after.close();
});
