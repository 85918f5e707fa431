import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTurnpikeError } from '../errors.js';
import type { Db } from '../domain/model.js';
import { counterJournals as journals, setCounter } from './fixtures/counter-journal.js';
import { backupStore, LowdbStore, restoreStore } from './lowdb-store.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import type { StoreWriteStats } from './store.js';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-store-'));
  try {
    await run(join(dir, 'state'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an acknowledged write is already in db.json when its promise resolves', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    await store.update((db) => {
      db.sequences.invoice = 7;
    });
    const onDisk = JSON.parse(await readFile(join(dir, 'db.json'), 'utf8')) as { sequences: Record<string, number> };
    assert.equal(onDisk.sequences.invoice, 7);
    await store.close();
  }));

test('concurrent writes share disk writes (group commit)', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    const batches: number[] = [];
    store.onWrite(({ batchSize }) => batches.push(batchSize));
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.update((db) => {
          db.sequences[`k${i}`] = i;
        }),
      ),
    );
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      200,
    );
    assert.ok(batches.length <= 3, `200 concurrent writes took ${batches.length} disk writes`);
    await store.close();
  }));

test('the store directory is 0700 and its files 0600', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    await store.update(() => undefined);
    await store.history('audit').append({ event: 'x' });
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'db.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'audit.jsonl'))).mode & 0o777, 0o600);
    await store.close();
  }));

test('a loose existing directory is tightened to 0700', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    await store.close();
    await chmod(dir, 0o755);
    const again = await LowdbStore.open({ dir });
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    await again.close();
  }));

for (const [label, contents] of [
  ['truncated', '{"schemaVersion":1,"users":{"a":{"id":'],
  ['not JSON at all', '\u0000\u0001garbage'],
  ['an array', '[]'],
] as const) {
  test(`a ${label} db.json stops the start, names the file and the restore command, and is left untouched`, () =>
    withDir(async (dir) => {
      const store = await LowdbStore.open({ dir });
      await store.close();
      const path = join(dir, 'db.json');
      await writeFile(path, contents);
      await assert.rejects(LowdbStore.open({ dir }), (err: unknown) => {
        assert.ok(isTurnpikeError(err, 'TP_ERR_STORE_CORRUPT'));
        assert.match(err.message, new RegExp(path.replace(/[/.]/g, '\\$&')));
        assert.match(err.message, /turnpike restore/);
        return true;
      });
      assert.equal(await readFile(path, 'utf8'), contents);
    }));
}

test('an old document is migrated to the latest schema version at start', () =>
  withDir(async (dir) => {
    const first = await LowdbStore.open({ dir });
    await first.close();
    await writeFile(join(dir, 'db.json'), JSON.stringify({ users: {} }));
    const store = await LowdbStore.open({ dir });
    assert.equal(store.db.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.deepEqual(store.db.plans, {});
    const onDisk = JSON.parse(await readFile(join(dir, 'db.json'), 'utf8')) as { schemaVersion: number };
    assert.equal(onDisk.schemaVersion, LATEST_SCHEMA_VERSION);
    await store.close();
  }));

test('a document from a newer Turnpike is refused rather than rewritten', () =>
  withDir(async (dir) => {
    const first = await LowdbStore.open({ dir });
    await first.close();
    const future = JSON.stringify({ schemaVersion: 999 });
    await writeFile(join(dir, 'db.json'), future);
    await assert.rejects(LowdbStore.open({ dir }), /newer than this Turnpike/);
    assert.equal(await readFile(join(dir, 'db.json'), 'utf8'), future);
  }));

test('a second writer on the same store is refused while the first runs', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    // The lock names a live process other than us: our parent stands in for a running appliance.
    await writeFile(join(dir, 'db.lock'), String(process.ppid));
    await assert.rejects(LowdbStore.open({ dir }), (err: unknown) => isTurnpikeError(err, 'TP_ERR_STORE_LOCKED'));
    await writeFile(join(dir, 'db.lock'), String(process.pid));
    await store.close();
  }));

test('backup then restore brings back the state; restore refuses while the appliance runs', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    await store.update((db) => {
      db.sequences.kept = 1;
    });
    const backup = join(dir, '..', 'backup.json');
    await backupStore(dir, backup, { accounting: () => undefined });
    assert.equal((await stat(backup)).mode & 0o777, 0o600);
    await store.update((db) => {
      db.sequences.kept = 2;
    });
    await writeFile(join(dir, 'db.lock'), String(process.ppid));
    await assert.rejects(restoreStore(dir, backup), (err: unknown) => isTurnpikeError(err, 'TP_ERR_STORE_LOCKED'));
    await writeFile(join(dir, 'db.lock'), String(process.pid));
    await store.close();
    await restoreStore(dir, backup);
    const restored = await LowdbStore.open({ dir });
    assert.equal(restored.db.sequences.kept, 1);
    await restored.close();
  }));

test('restoring a file that is not a backup is refused and the store is unchanged', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    await store.update((db) => {
      db.sequences.kept = 3;
    });
    await store.close();
    const bogus = join(dir, '..', 'bogus.json');
    await writeFile(bogus, '{"oops"');
    await assert.rejects(restoreStore(dir, bogus), (err: unknown) => isTurnpikeError(err, 'TP_ERR_STORE_CORRUPT'));
    const again = await LowdbStore.open({ dir });
    assert.equal(again.db.sequences.kept, 3);
    await again.close();
  }));

test('histories are append-only JSON lines beside db.json and rotate past their size limit', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir, history: { maxBytes: 50, keep: 2 } });
    const audit = store.history<{ n: number }>('audit');
    for (let n = 0; n < 30; n += 1) await audit.append({ n });
    const rotated = await audit.rotatedFiles();
    assert.equal(rotated.length, 2, 'only the newest rotated files are kept');
    const records = await audit.readAll();
    assert.equal(records.at(-1)?.n, 29);
    assert.ok(records.length < 30, 'the oldest rotated files are pruned');
    const db = await readFile(join(dir, 'db.json'), 'utf8');
    assert.doesNotMatch(db, /"n":29/);
    await store.close();
  }));

/** A store that is never closed and never checkpoints: what a crash leaves behind. */
const crashingStore = (dir: string): Promise<LowdbStore> => LowdbStore.open({ dir, journals, checkpointMs: 3_600_000 });

test('a journaled change is acknowledged by its fsynced line; db.json catches up at the checkpoint', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir, journals, checkpointMs: 1000 });
    const writes: StoreWriteStats[] = [];
    const checkpointed = new Promise<void>((resolve) =>
      store.onWrite((stats) => {
        writes.push(stats);
        if (stats.journal === null) resolve();
      }),
    );
    assert.equal(await store.journaled('accounting', { key: 'octets', value: 10 }, setCounter), 10);
    assert.deepEqual(
      writes.map(({ batchSize, journal }) => ({ batchSize, journal })),
      [{ batchSize: 1, journal: 'accounting' }],
      'the journal fsync is reported as a store write',
    );
    const line = JSON.parse(await readFile(join(dir, 'accounting.jsonl'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(line, { seq: 1, key: 'octets', value: 10 });
    const readDisk = async (): Promise<Db> => JSON.parse(await readFile(join(dir, 'db.json'), 'utf8')) as Db;
    assert.equal((await readDisk()).sequences.octets, undefined, 'db.json is not rewritten per journaled change');
    // The checkpoint timer does not hold the process open; this wait does, and bounds it.
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      checkpointed,
      new Promise((_, reject) => {
        deadline = setTimeout(() => reject(new Error('no checkpoint within 10 s')), 10_000);
      }),
    ]).finally(() => clearTimeout(deadline));
    const disk = await readDisk();
    assert.equal(disk.sequences.octets, 10);
    assert.equal(disk.journalCheckpoints.accounting, 1);
    await store.close();
  }));

test('journal lines past the checkpoint are replayed when the store opens after a crash', () =>
  withDir(async (dir) => {
    const crashed = await crashingStore(dir);
    for (let value = 1; value <= 3; value += 1)
      await crashed.journaled('accounting', { key: 'octets', value }, setCounter);
    await crashed.update((db) => {
      db.sequences.other = 7;
    });
    await crashed.journaled('accounting', { key: 'later', value: 4 }, setCounter);

    const reopened = await LowdbStore.open({ dir, journals });
    assert.deepEqual(reopened.db.sequences, { octets: 3, other: 7, later: 4 });
    assert.equal(reopened.db.journalCheckpoints.accounting, 4);
    await reopened.journaled('accounting', { key: 'next', value: 5 }, setCounter);
    const lines = (await reopened.history<{ seq: number }>('accounting').readAll()).map((line) => line.seq);
    assert.deepEqual(lines, [1, 2, 3, 4, 5], 'numbering continues after the replay');
    await reopened.close();
  }));

test('a store whose journal is ahead of db.json will not open without the replayers for it', () =>
  withDir(async (dir) => {
    const crashed = await crashingStore(dir);
    await crashed.journaled('accounting', { key: 'octets', value: 1 }, setCounter);
    await assert.rejects(
      LowdbStore.open({ dir }),
      (err: unknown) => isTurnpikeError(err, 'TP_ERR_STORE_CORRUPT') && /1 accounting records/.test(err.message),
    );
  }));

test('a restored backup is the state wanted: journal lines written after it are not replayed onto it', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir, journals });
    await store.journaled('accounting', { key: 'octets', value: 1 }, setCounter);
    const backup = join(dir, '..', 'backup.json');
    await backupStore(dir, backup, journals);
    await store.journaled('accounting', { key: 'octets', value: 2 }, setCounter);
    await store.close();
    await restoreStore(dir, backup);
    const restored = await LowdbStore.open({ dir, journals });
    assert.equal(restored.db.sequences.octets, 1);
    await restored.close();
  }));

test('a history is searched from its newest record back, across chunk and rotation boundaries', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir, history: { maxBytes: 100_000, keep: 10 } });
    const audit = store.history<{ n: number; text: string }>('audit');
    const record = (n: number) => ({ n, text: `Grüße ${'é'.repeat(n % 50)}` });
    for (let batch = 0; batch < 3000; batch += 300) {
      await Promise.all(Array.from({ length: 300 }, (_, i) => audit.append(record(batch + i))));
    }
    assert.ok((await audit.rotatedFiles()).length >= 2, 'the records span rotated files');
    const since = await audit.readSince((record) => record.n === 100);
    assert.deepEqual(
      since.map((record) => record.n),
      Array.from({ length: 2899 }, (_, i) => i + 101),
    );
    assert.deepEqual(since.at(-1), record(2999));
    assert.equal((await audit.findLast((record) => record.n % 1000 === 0))?.n, 2000);
    assert.equal(await audit.findLast(() => false), undefined);
    await store.close();
  }));
