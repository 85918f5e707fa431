import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeRecord } from './change-record.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import type { Store } from './store.js';
import { userRecord } from '../testing/user-record.js';

/** One driver under test: a fresh, empty store, and a second store opened on the same state. */
export interface StoreUnderTest {
  store: Store;
  /** Opens the same state again (after `store` is closed, or beside it where the driver allows). */
  reopen(): Promise<Store>;
}

/**
 * What every store driver does, whatever keeps the state: run by each driver's test file so
 * that lowdb and PostgreSQL answer the appliance alike.
 */
export function storeContract(driver: string, fresh: (t: TestContext) => Promise<StoreUnderTest | null>): void {
  const it = (name: string, body: (subject: StoreUnderTest) => Promise<void>): void => {
    test(`[${driver}] ${name}`, async (t) => {
      const subject = await fresh(t);
      if (subject) await body(subject);
    });
  };

  it('a new store holds the latest schema and the default settings', async ({ store }) => {
    assert.equal(store.db.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.equal(store.db.settings.venueName, 'Turnpike Wi-Fi');
    assert.deepEqual(store.db.users, {});
    assert.deepEqual(store.db.payments.invoices, {});
  });

  it('an acknowledged write is current state at once and still there when the store is opened again', async ({
    store,
    reopen,
  }) => {
    await store.update((db) => {
      db.users.u = userRecord({ id: 'u' });
      db.sequences.invoice = 7;
      db.settings.venueName = 'Harbour Café';
    });
    assert.equal(store.db.sequences.invoice, 7);
    await store.close();
    const again = await reopen();
    try {
      assert.equal(again.db.sequences.invoice, 7);
      assert.equal(again.db.users.u?.email, 'u@example.test');
      assert.equal(again.db.settings.venueName, 'Harbour Café');
    } finally {
      await again.close();
    }
  });

  it('a deleted row stays deleted after reopening', async ({ store, reopen }) => {
    await store.update((db) => {
      db.users.a = userRecord({ id: 'a' });
      db.users.b = userRecord({ id: 'b' });
    });
    await store.update((db) => {
      delete db.users.a;
    });
    assert.deepEqual(Object.keys(store.db.users), ['b']);
    await store.close();
    const again = await reopen();
    try {
      assert.deepEqual(Object.keys(again.db.users), ['b']);
    } finally {
      await again.close();
    }
  });

  it('200 concurrent writes are all acknowledged and all kept', async ({ store, reopen }) => {
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.update((db) => {
          db.sequences[`k${i}`] = i;
        }),
      ),
    );
    await Promise.all(
      Array.from({ length: 50 }, () =>
        store.update((db) => {
          db.sequences.counter = (db.sequences.counter ?? 0) + 1;
        }),
      ),
    );
    assert.equal(Object.keys(store.db.sequences).length, 201);
    assert.equal(store.db.sequences.counter, 50);
    await store.close();
    const again = await reopen();
    try {
      assert.equal(Object.keys(again.db.sequences).length, 201);
      assert.equal(again.db.sequences.counter, 50);
    } finally {
      await again.close();
    }
  });

  it('a mutation that throws changes nothing; one that changes nothing announces nothing', async ({ store }) => {
    const heard: ChangeRecord[] = [];
    await store.update((db) => {
      db.sequences.a = 1;
    });
    store.onChange((record) => heard.push(record));
    await assert.rejects(
      store.update((db) => {
        db.sequences.a = 2;
        db.sequences.b = 2;
        throw new Error('checked too late');
      }),
      /checked too late/,
    );
    assert.deepEqual(store.db.sequences, { a: 1 });
    const count = await store.update((db) => {
      db.sequences.a = 1;
      return Object.values(db.sequences).length;
    });
    assert.equal(count, 1);
    assert.deepEqual(heard, []);
    await store.close();
  });

  it('each change is announced once with the rows it wrote', async ({ store }) => {
    const heard: ChangeRecord[] = [];
    store.onChange((record) => heard.push(record));
    await store.update((db) => {
      db.users.u = userRecord({ id: 'u' });
    });
    await store.update((db) => {
      delete db.users.u;
    });
    assert.deepEqual(
      heard.map(({ changes }) => changes.map(({ table, id, value }) => [table, id, value === null])),
      [[['users', 'u', false]], [['users', 'u', true]]],
    );
    await store.close();
  });

  it('what a mutation returns stays readable after it, drafts included', async ({ store }) => {
    await store.update((db) => {
      db.users.u = userRecord({ id: 'u' });
    });
    const { user, list } = await store.update((db) => {
      db.users.u!.displayName = 'Changed';
      return { user: db.users.u!, list: [db.users.u!] };
    });
    assert.equal(user.displayName, 'Changed');
    assert.equal(list[0]!.email, 'u@example.test');
    assert.equal(store.db.users.u!.displayName, 'Changed');
    await store.close();
  });

  it('histories keep what was appended, in order, and are searched from the newest back', async ({ store, reopen }) => {
    const audit = store.history<{ n: number; text: string }>('audit');
    const record = (n: number) => ({ n, text: `Grüße ${'é'.repeat(n % 7)}` });
    for (let batch = 0; batch < 1200; batch += 300) {
      await Promise.all(Array.from({ length: 300 }, (_, i) => audit.append(record(batch + i))));
    }
    await store.history('coa').append({ sessionId: 's' });
    const all = await audit.readAll();
    assert.equal(all.length, 1200);
    assert.deepEqual(
      all.map((r) => r.n),
      Array.from({ length: 1200 }, (_, i) => i),
    );
    const since = await audit.readSince((r) => r.n === 100);
    assert.deepEqual(
      since.map((r) => r.n),
      Array.from({ length: 1099 }, (_, i) => i + 101),
    );
    assert.equal((await audit.findLast((r) => r.n % 500 === 0))?.n, 1000);
    assert.equal(await audit.findLast(() => false), undefined);
    const streamed: typeof all = [];
    for await (const r of audit.stream()) streamed.push(r);
    assert.deepEqual(streamed, all, 'a stream gives what readAll does, in the same order');
    const tail: typeof all = [];
    for await (const r of audit.stream((r) => r.n < 1000)) tail.push(r);
    assert.deepEqual(tail, all.slice(all.length - tail.length), 'a stream from a point gives a tail');
    assert.ok(tail.length >= 200, 'holding every record not before it');
    await store.close();
    const again = await reopen();
    try {
      assert.equal((await again.history('audit').readAll()).length, 1200);
      assert.deepEqual(await again.history('coa').readAll(), [{ sessionId: 's' }]);
      assert.deepEqual(await again.history('accounting').readAll(), []);
    } finally {
      await again.close();
    }
  });

  it('a closed store refuses writes', async ({ store }) => {
    await store.close();
    await assert.rejects(
      store.update((db) => {
        db.sequences.a = 1;
      }),
    );
  });
}
