import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isTurnpikeError } from '../../shared/errors.js';
import type { Db } from '../domain/model.js';
import { subscriptionRecord } from '../testing/subscription-record.js';
import { userRecord } from '../testing/user-record.js';
import { CHECKPOINT_SEQ_FIELD } from './checkpoint-file.js';
import { peekDocument, rowToChange } from './staged-mutation.js';
import { backupStore, LowdbStore, restoreStore } from './lowdb-store.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import type { StoreWriteStats } from './store.js';
import { storeContract } from './store-contract.js';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-store-'));
  try {
    await run(join(dir, 'state'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an acknowledged write is on disk when its promise resolves: a store opened then holds it', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir });
    await store.update((db) => {
      db.sequences.invoice = 7;
    });
    const reader = await LowdbStore.open({ dir, readOnly: true });
    assert.equal(reader.db.sequences.invoice, 7);
    await reader.close();
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
    await backupStore(dir, backup);
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

test('a history streamed from a point skips the rotated files wholly before it', () =>
  withDir(async (dir) => {
    const store = await LowdbStore.open({ dir, history: { maxBytes: 60, keep: 100 } });
    const audit = store.history<{ n: number }>('audit');
    for (let n = 0; n < 40; n += 1) await audit.append({ n });
    const all: number[] = [];
    for await (const record of audit.stream()) all.push(record.n);
    assert.deepEqual(
      all,
      Array.from({ length: 40 }, (_, n) => n),
    );
    const asked: number[] = [];
    const tail: number[] = [];
    for await (const record of audit.stream((r) => (asked.push(r.n), r.n < 30))) tail.push(record.n);
    assert.ok(tail[0]! > 0 && tail[0]! <= 30, `whole files before 30 are left out (from ${tail[0]})`);
    assert.deepEqual(tail, all.slice(tail[0]), 'and everything after comes, in order');
    assert.ok(asked.length < 40, 'the skipped files are judged by their newest record, not read');
    await store.close();
  }));

/** A store that is never closed and never checkpoints on its own: what a crash leaves behind. */
const crashingStore = (dir: string): Promise<LowdbStore> =>
  LowdbStore.open({ dir, checkpoint: { intervalMs: 3_600_000, maxLogBytes: Number.MAX_SAFE_INTEGER } });

const logFiles = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((name) => name.startsWith('wal.'));
const logText = async (dir: string): Promise<string> =>
  (await Promise.all((await logFiles(dir)).sort().map((name) => readFile(join(dir, name), 'utf8')))).join('');

test('a write is acknowledged once its change record is fsynced in the log; db.json is not rewritten', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    const before = await readFile(join(dir, 'db.json'), 'utf8');
    const writes: StoreWriteStats[] = [];
    store.onWrite((stats) => writes.push(stats));
    await store.update((db) => {
      db.sequences.invoice = 7;
    });
    assert.deepEqual(
      writes.map(({ batchSize, file }) => ({ batchSize, file })),
      [{ batchSize: 1, file: 'wal' }],
    );
    assert.equal(await readFile(join(dir, 'db.json'), 'utf8'), before, 'db.json waits for the checkpoint');
    assert.deepEqual(JSON.parse(await logText(dir)), {
      seq: 1,
      changes: [{ table: 'sequences', id: 'invoice', value: 7 }],
    });
  }));

test('a write costs the rows it changes, not the size of the store', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    await store.update((db) => {
      for (let n = 0; n < 10_000; n += 1) db.users[`u${n}`] = userRecord({ id: `u${n}` });
    });
    const logged = (await logText(dir)).length;
    await store.update((db) => {
      db.users.u42!.displayName = 'Renamed';
    });
    const line = (await logText(dir)).slice(logged);
    assert.ok(line.length < 1024, `one renamed user logged ${line.length} bytes`);
    assert.match(line, /"table":"users","id":"u42"/);
    assert.equal(store.db.users.u42!.displayName, 'Renamed');
  }));

test('an update of a row logs only the fields it set and removed, and the log replays to the same row', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    await store.update((db) => {
      db.subscriptions.s1 = subscriptionRecord({ id: 's1', planId: 'p', topUpBytes: 500 });
    });
    const logged = (await logText(dir)).length;
    await store.update((db) => {
      const subscription = db.subscriptions.s1!;
      subscription.bytesUsed = 1234;
      delete subscription.topUpBytes;
    });
    assert.deepEqual(JSON.parse((await logText(dir)).slice(logged)), {
      seq: 2,
      changes: [{ table: 'subscriptions', id: 's1', set: { bytesUsed: 1234 }, unset: ['topUpBytes'] }],
    });
    const reopened = await LowdbStore.open({ dir, readOnly: true });
    assert.deepEqual(reopened.db.subscriptions, store.db.subscriptions);
  }));

test('a log of whole rows, as written before updates were logged as patches, still replays', () =>
  withDir(async (dir) => {
    const first = await LowdbStore.open({ dir });
    await first.close();
    const row = subscriptionRecord({ id: 's1', planId: 'p' });
    const lines = [
      { seq: 1, changes: [{ table: 'subscriptions', id: 's1', value: row }] },
      { seq: 2, changes: [{ table: 'subscriptions', id: 's1', value: { ...row, bytesUsed: 9 } }] },
    ];
    await writeFile(join(dir, 'wal.0000000000000001.jsonl'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    const store = await LowdbStore.open({ dir });
    assert.deepEqual(store.db.subscriptions.s1, { ...row, bytesUsed: 9 });
    await store.update((db) => {
      db.subscriptions.s1!.bytesUsed = 10;
    });
    await store.close();
    const again = await LowdbStore.open({ dir, readOnly: true });
    assert.deepEqual(again.db.subscriptions.s1, { ...row, bytesUsed: 10 });
  }));

test('patches replayed over a checkpoint that already holds later changes, even a later delete, end at the last state', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    const mutations: Array<(db: Db) => void> = [
      (db) => {
        db.subscriptions.s1 = subscriptionRecord({ id: 's1', planId: 'p', topUpBytes: 5 });
      },
      (db) => {
        db.subscriptions.s1!.bytesUsed = 100;
        db.settings.timeZone = 'Europe/Paris';
      },
      (db) => {
        delete db.subscriptions.s1!.topUpBytes;
        db.subscriptions.s2 = subscriptionRecord({ id: 's2', planId: 'p' });
      },
      (db) => {
        delete db.subscriptions.s1;
      },
      (db) => {
        db.subscriptions.s1 = subscriptionRecord({ id: 's1', planId: 'q' });
        db.subscriptions.s2!.status = 'expired';
      },
      (db) => {
        db.subscriptions.s1!.bytesUsed = 7;
      },
    ];
    // states[n]: the state once change record n is written (0: at open).
    const states = [structuredClone(store.db)];
    for (const mutate of mutations) {
      await store.update(mutate);
      states.push(structuredClone(store.db));
    }
    assert.match(await logText(dir), /"set":\{"bytesUsed":100\}/, 'updates are logged as patches');
    // A checkpoint stamped with record n is written while writes go on: it may hold any later state.
    for (let stamp = 0; stamp < states.length; stamp += 1) {
      for (let held = stamp; held < states.length; held += 1) {
        await writeFile(join(dir, 'db.json'), JSON.stringify({ [CHECKPOINT_SEQ_FIELD]: stamp, ...states[held] }));
        const replayed = await LowdbStore.open({ dir, readOnly: true });
        assert.deepEqual(replayed.db, states.at(-1), `checkpoint stamped ${stamp}, holding the state after ${held}`);
      }
    }
    // A kill mid-append leaves a torn patch line: it was never acknowledged and is dropped.
    const [segment] = await logFiles(dir);
    await writeFile(
      join(dir, segment!),
      `${await logText(dir)}{"seq":7,"changes":[{"table":"subscriptions","id":"s1","set":{"byt`,
    );
    const warnings: string[] = [];
    const reopened = await LowdbStore.open({ dir, onWarning: (message) => warnings.push(message) });
    assert.deepEqual(reopened.db, states.at(-1));
    assert.equal(warnings.length, 1);
    await reopened.close();
  }));

test('a mutation that throws changes nothing, and one that changes nothing writes nothing', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    await store.update((db) => {
      db.sequences.a = 1;
    });
    const logged = await logText(dir);
    await assert.rejects(
      store.update((db) => {
        db.sequences.a = 2;
        db.sequences.b = 2;
        throw new Error('checked too late');
      }),
      /checked too late/,
    );
    assert.deepEqual(store.db.sequences, { a: 1 });
    await store.update((db) => {
      db.sequences.a = 1;
      return Object.values(db.sequences).length;
    });
    assert.equal(await logText(dir), logged, 'neither the failed nor the idle mutation reached the log');
  }));

test('a mutation may return a row together with a part of it: both stay readable', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    await store.update((db) => {
      db.users.u = userRecord({ id: 'u' });
    });
    const { user, keys } = await store.update((db) => {
      db.users.u!.displayName = 'Changed';
      // The row first: finishing it must not break the part of it that follows.
      return { user: db.users.u!, keys: db.users.u!.sshKeys };
    });
    assert.equal(user.displayName, 'Changed');
    assert.deepEqual(keys, []);
  }));

test('a mutation may return a row it deleted or replaced: the caller gets it as the mutation left it', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    await store.update((db) => {
      db.users.a = userRecord({ id: 'a' });
      db.users.b = userRecord({ id: 'b' });
    });
    const { removed, replaced } = await store.update((db) => {
      const removed = db.users.a!;
      removed.displayName = 'Leaving';
      delete db.users.a;
      const replaced = db.users.b!;
      db.users.b = { ...userRecord({ id: 'b' }), displayName: 'New' };
      return { removed, replaced };
    });
    assert.equal(removed.displayName, 'Leaving');
    assert.equal(replaced.displayName, 'b');
    assert.equal(store.db.users.a, undefined);
    assert.equal(store.db.users.b!.displayName, 'New');
  }));

test("a row changed as a copy and a peeked document see the mutation's own writes; readers keep the row as it was", () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    await store.update((db) => {
      db.subscriptions.s1 = subscriptionRecord({ id: 's1', planId: 'p' });
    });
    const before = store.db.subscriptions.s1!;
    const zone = store.db.settings.timeZone;
    const seen = await store.update((db) => {
      const subscription = rowToChange(db.subscriptions, 's1')!;
      subscription.bytesUsed = 42;
      const peekedZone = peekDocument(db, 'settings').timeZone;
      db.settings.timeZone = 'Europe/Paris';
      return {
        missing: rowToChange(db.subscriptions, 'nobody'),
        bytesUsed: db.subscriptions.s1!.bytesUsed,
        zones: [peekedZone, peekDocument(db, 'settings').timeZone],
        subscription,
      };
    });
    assert.deepEqual(seen, {
      missing: null,
      bytesUsed: 42,
      zones: [zone, 'Europe/Paris'],
      subscription: { ...before, bytesUsed: 42 },
    });
    assert.equal(before.bytesUsed, 0, 'the row as it was is not changed in place');
    assert.equal(store.db.subscriptions.s1!.bytesUsed, 42);
    const reopened = await LowdbStore.open({ dir, readOnly: true });
    assert.deepEqual(reopened.db.subscriptions, store.db.subscriptions);
  }));

test('the log past the checkpoint is replayed at open, and a checkpoint retires the log before it', () =>
  withDir(async (dir) => {
    const crashed = await crashingStore(dir);
    for (let value = 1; value <= 3; value += 1) {
      await crashed.update((db) => {
        db.sequences.octets = value;
      });
    }
    await crashed.checkpoint();
    await crashed.update((db) => {
      db.sequences.later = 4;
      delete db.sequences.octets;
    });
    assert.equal((await logFiles(dir)).length, 1, 'segments held by the checkpoint are deleted');

    const reopened = await LowdbStore.open({ dir });
    assert.deepEqual(reopened.db.sequences, { later: 4 });
    await reopened.update((db) => {
      db.sequences.next = 5;
    });
    await reopened.close();
    const again = await LowdbStore.open({ dir });
    assert.deepEqual(again.db.sequences, { later: 4, next: 5 });
    assert.equal(await logText(dir), '', 'a clean stop leaves db.json current');
    await again.close();
  }));

test('a torn last log line is dropped with a warning; a damaged line before it stops the start', () =>
  withDir(async (dir) => {
    const crashed = await crashingStore(dir);
    for (const key of ['a', 'b']) {
      await crashed.update((db) => {
        db.sequences[key] = 1;
      });
    }
    const [segment] = await logFiles(dir);
    const path = join(dir, segment!);
    const intact = await readFile(path, 'utf8');
    await writeFile(path, `${intact}{"seq":3,"changes":[{"table":"seq`);
    const warnings: string[] = [];
    const reopened = await LowdbStore.open({ dir, onWarning: (message) => warnings.push(message) });
    assert.deepEqual(reopened.db.sequences, { a: 1, b: 1 });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      new RegExp(`torn last line of .*${segment!.replace(/\./g, '\\.')} at byte ${intact.length}`),
    );
    await reopened.close();

    const damaged = intact.replace('"seq":1', '"seq":"one"');
    await writeFile(path, damaged);
    await assert.rejects(LowdbStore.open({ dir }), (err: unknown) => {
      assert.ok(isTurnpikeError(err, 'TP_ERR_STORE_CORRUPT'));
      assert.match(err.message, new RegExp(`${segment!.replace(/\./g, '\\.')} is damaged at byte 0`));
      return true;
    });
    assert.equal(await readFile(path, 'utf8'), damaged, 'the damaged log is left untouched');
  }));

test('a restored backup is the state wanted: changes logged after it are not replayed onto it', () =>
  withDir(async (dir) => {
    const store = await crashingStore(dir);
    await store.update((db) => {
      db.sequences.octets = 1;
    });
    const backup = join(dir, '..', 'backup.json');
    await backupStore(dir, backup);
    await store.update((db) => {
      db.sequences.octets = 2;
    });
    await store.close();
    await restoreStore(dir, backup);
    const restored = await LowdbStore.open({ dir });
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

storeContract('lowdb', async (t) => {
  const dir = join(await mkdtemp(join(tmpdir(), 'tp-store-')), 'state');
  t.after(() => rm(dirname(dir), { recursive: true, force: true }));
  const store = await LowdbStore.open({ dir });
  t.after(() => store.close());
  return { store, reopen: () => LowdbStore.open({ dir }) };
});
