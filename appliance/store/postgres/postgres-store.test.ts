import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { isTurnpikeError } from '../../../shared/errors.js';
import { requirePostgres, startPostgres, type PostgresServer } from '../../testing/postgres-server.js';
import { userRecord } from '../../testing/user-record.js';
import type { ChangeRecord } from '../change-record.js';
import { storeContract } from '../store-contract.js';
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
import { LATEST_SCHEMA } from './schema.js';

let server: PostgresServer | null = null;
let databases = 0;

before(async () => {
  if (process.env.CI === 'true' || requirePostgresQuietly()) server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

function requirePostgresQuietly(): boolean {
  let ok = true;
  requirePostgres({ skip: () => (ok = false) } as unknown as TestContext);
  return ok;
}

/** A new, empty database on the shared test server. */
async function freshDatabase(t: TestContext): Promise<string | null> {
  if (!requirePostgres(t) || !server) return null;
  const name = `store_test_${process.pid}_${(databases += 1)}`;
  const admin = new pg.Client(server.url);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.toString();
}

async function openOn(
  t: TestContext,
  url: string,
  options: Partial<PostgresStoreOptions> = {},
): Promise<PostgresStore> {
  const store = await PostgresStore.open({ url, pollMs: 200, ...options });
  t.after(() => store.close());
  return store;
}

storeContract('postgres', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return null;
  return { store: await openOn(t, url), reopen: () => PostgresStore.open({ url }) };
});

/** Resolves once `check` holds, polling; fails after `ms`. */
async function eventually(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('two appliances on one database see each other’s writes within a moment, announced once', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return;
  const a = await openOn(t, url);
  const b = await openOn(t, url);
  const heardByB: ChangeRecord[] = [];
  b.onChange((record) => heardByB.push(record));
  await a.update((db) => {
    db.users.u = userRecord({ id: 'u' });
  });
  await eventually(() => b.db.users.u?.email === 'u@example.test');
  await b.update((db) => {
    db.users.u!.displayName = 'From B';
  });
  await eventually(() => a.db.users.u?.displayName === 'From B');
  await a.update((db) => {
    delete db.users.u;
  });
  await eventually(() => b.db.users.u === undefined);
  assert.deepEqual(
    heardByB.map(({ changes }) => changes.map(({ id, value }) => [id, value === null])),
    [[['u', false]], [['u', false]], [['u', true]]],
  );
});

test('writers on two appliances changing the same row re-run on the fresh row: no increment is lost, no history line doubled', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return;
  const a = await openOn(t, url, { maxAttempts: 100 });
  const b = await openOn(t, url, { maxAttempts: 100 });
  const bump = (store: PostgresStore, n: number) =>
    store.update((db, histories) => {
      db.sequences.counter = (db.sequences.counter ?? 0) + 1;
      histories.append('audit', { n });
    });
  await Promise.all(Array.from({ length: 100 }, (_, i) => bump(i % 2 === 0 ? a : b, i)));
  await eventually(() => a.db.sequences.counter === 100 && b.db.sequences.counter === 100);
  // Re-runs after conflicts happened (both wrote one row); only the run that committed wrote its line.
  const lines = await a.history<{ n: number }>('audit').readAll();
  assert.deepEqual(
    lines.map((line) => line.n).sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
});

/** Changes a row behind the appliances' backs: no change log, no notification, a newer version. */
async function changeBehindTheirBacks(url: string, value: number): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  await client.query("UPDATE rows_sequences SET data = $1::jsonb, version = version + 1000 WHERE id = 'contested'", [
    String(value),
  ]);
  await client.end();
}

test('a mutation whose row another writer changed is re-run on the fresh row; past the bound it fails coded and changes nothing', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return;
  const store = await openOn(t, url, { maxAttempts: 2 });
  const bump = () =>
    store.update((db) => {
      db.sequences.contested = (db.sequences.contested ?? 0) + 1;
      return db.sequences.contested;
    });
  assert.equal(await bump(), 1);
  await changeBehindTheirBacks(url, 10);
  assert.equal(await bump(), 11, 'the second run read the row as the database holds it');

  const strict = await openOn(t, url, { maxAttempts: 1 });
  await changeBehindTheirBacks(url, 20);
  await assert.rejects(
    strict.update((db) => {
      db.sequences.contested = 99;
    }),
    (err: unknown) =>
      isTurnpikeError(err, 'TP_ERR_STORE_CONFLICT') &&
      /rows_sequences|sequences\/contested/.test(JSON.stringify(err.details)),
  );
  assert.equal(strict.db.sequences.contested, 20, 'memory now holds the row the conflict showed');
  const check = await PostgresStore.open({ url });
  assert.equal(check.db.sequences.contested, 20);
  await check.close();
});

test('the schema is versioned: every migration is recorded once, and opening again applies none', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return;
  await (await PostgresStore.open({ url })).close();
  await openOn(t, url);
  const client = new pg.Client(url);
  await client.connect();
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  await client.end();
  assert.deepEqual(
    rows.map((row) => row.version),
    Array.from({ length: LATEST_SCHEMA }, (_, i) => i + 1),
  );
});

/** Retries `write` until the database takes it (an operator's client retrying a 503). */
async function writeWhenBack(write: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await write();
      return;
    } catch (err) {
      if (!isTurnpikeError(err, 'TP_ERR_STORE_UNAVAILABLE') || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

test('while the database is down writes fail with TP_ERR_STORE_UNAVAILABLE; once back, the appliance writes again and catches up', async (t) => {
  const url = await freshDatabase(t);
  if (!url || !server) return;
  const a = await openOn(t, url);
  await a.update((db) => {
    db.sequences.before = 1;
  });
  const restarting = server.restart({ downMs: 1_500 });
  while (await a.isWritable()) await new Promise((resolve) => setTimeout(resolve, 20));
  await assert.rejects(
    a.update((db) => {
      db.sequences.during = 1;
    }),
    (err: unknown) => isTurnpikeError(err, 'TP_ERR_STORE_UNAVAILABLE'),
  );
  assert.equal(a.db.sequences.during, undefined, 'a write that failed is not in memory');
  await restarting;
  const b = await openOn(t, url);
  await writeWhenBack(() =>
    b.update((db) => {
      db.sequences.fromB = 2;
    }),
  );
  await eventually(() => a.db.sequences.fromB === 2, 5_000);
  await writeWhenBack(() =>
    a.update((db) => {
      db.sequences.after = 3;
    }),
  );
  await eventually(() => b.db.sequences.after === 3);
});

test('an appliance behind the pruned change log reloads every row and announces what differs', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return;
  const a = await openOn(t, url);
  await a.update((db) => {
    db.users.stays = userRecord({ id: 'stays' });
    db.users.goes = userRecord({ id: 'goes' });
  });
  const behind = await openOn(t, url, { listen: false });
  const heard: ChangeRecord[] = [];
  behind.onChange((record) => heard.push(record));
  await a.update((db) => {
    delete db.users.goes;
    db.users.stays!.displayName = 'Renamed';
    db.users.added = userRecord({ id: 'added' });
  });
  assert.ok((await a.pruneChangeLog(0)) >= 2);
  assert.equal(behind.db.users.goes?.id, 'goes', 'without its feed, memory has not moved yet');
  await behind.catchUp();
  assert.deepEqual(behind.db.users, a.db.users);
  assert.deepEqual(
    heard
      .flatMap(({ changes }) => changes.map(({ id, value }) => `${id}:${value === null ? 'deleted' : 'set'}`))
      .sort(),
    ['added:set', 'goes:deleted', 'stays:set'],
  );
  await a.update((db) => {
    db.users.later = userRecord({ id: 'later' });
  });
  await behind.catchUp();
  assert.equal(behind.db.users.later?.id, 'later', 'past the reload it follows the log again');
});

test('a follower never skips a change: under two busy writers its memory ends equal to the database', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return;
  const writers = [await openOn(t, url), await openOn(t, url)];
  const follower = await openOn(t, url);
  let heard = 0;
  follower.onChange(({ changes }) => (heard += changes.length));
  // Both writers commit at once, over and over: sequences are taken by concurrent transactions.
  await Promise.all(
    writers.flatMap((store, w) =>
      Array.from({ length: 200 }, (_, i) =>
        store.update((db) => {
          db.sequences[`w${w}-${i % 40}`] = i;
          if (i % 10 === 0) delete db.sequences[`w${w}-${(i + 20) % 40}`];
        }),
      ),
    ),
  );
  const truth = await PostgresStore.open({ url, listen: false });
  const sorted = (rows: Readonly<Record<string, number>>) => JSON.stringify(Object.entries(rows).sort());
  await eventually(() => sorted(follower.db.sequences) === sorted(truth.db.sequences), 5_000);
  assert.deepEqual(follower.db.sequences, truth.db.sequences);
  assert.ok(heard > 0);
  await truth.close();
});

test('PostgreSQL crashing under 100 writers loses no acknowledged write; the others fail coded and the store carries on', async (t) => {
  const url = await freshDatabase(t);
  if (!url || !server) return;
  const store = await openOn(t, url);
  const acknowledged: string[] = [];
  const failures = new Set<string>();
  let crashed = false;
  const deadline = Date.now() + 4_000;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; Date.now() < deadline || !crashed; i += 1) {
      const key = `w${w}-${i}`;
      try {
        await store.update((db) => {
          db.sequences[key] = i;
        });
        acknowledged.push(key);
      } catch (err) {
        failures.add(isTurnpikeError(err) ? err.code : String(err));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const writers = Promise.all(Array.from({ length: 100 }, (_, w) => writer(w)));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const before = acknowledged.length;
  await server.restart({ downMs: 500 });
  crashed = true;
  await writers;
  assert.ok(before > 0 && acknowledged.length > before, 'writes went through before the crash and after it');
  assert.deepEqual([...failures], ['TP_ERR_STORE_UNAVAILABLE']);
  const check = await PostgresStore.open({ url, listen: false });
  const lost = acknowledged.filter((key) => check.db.sequences[key] === undefined);
  await check.close();
  assert.deepEqual(lost, [], 'every acknowledged write is in the database');
});

test('a history streamed from a point in time starts there: the rows before it are not read', async (t) => {
  const url = await freshDatabase(t);
  if (!url) return;
  const store = await openOn(t, url);
  const accounting = store.history<{ at: number }>('accounting');
  await Promise.all(Array.from({ length: 5_000 }, (_, at) => accounting.append({ at })));
  let asked = 0;
  const from = (at: number) => (line: { at: number }) => {
    asked += 1;
    return line.at < at;
  };
  const tail: number[] = [];
  for await (const line of accounting.stream(from(4_990))) tail.push(line.at);
  assert.deepEqual(tail, [4_990, 4_991, 4_992, 4_993, 4_994, 4_995, 4_996, 4_997, 4_998, 4_999]);
  assert.ok(asked <= 20, `found the start in ${asked} reads of one row, not by paging 5,000`);
  const all: number[] = [];
  for await (const line of accounting.stream(from(-1))) all.push(line.at);
  assert.equal(all.length, 5_000, 'nothing before: everything');
  const none: number[] = [];
  for await (const line of accounting.stream(from(10_000))) none.push(line.at);
  assert.deepEqual(none, [], 'all before: nothing');
});
