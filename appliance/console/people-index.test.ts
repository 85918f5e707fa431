import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore } from '../testing/temp-store.js';
import { userRecord } from '../testing/user-record.js';
import { CollectionSnapshots } from './collection-snapshots.js';
import { PeopleIndex } from './people-index.js';
import { searchPeople } from './people.js';

const T0 = Date.UTC(2026, 0, 1);

test('people search finds accounts by the start of any word of their email or name, newest first, and follows changes', async (t) => {
  const store = await tempStore(t, 'tp-h11a-people-');
  await store.update((db) => {
    const people: Array<[string, string, string]> = [
      ['ada', 'ada.lovelace@example.test', 'Ada Lovelace'],
      ['grace', 'grace@navy.test', 'Grace Hopper'],
      ['alan', 'alan@example.test', 'Alan Turing'],
    ];
    people.forEach(([id, email, displayName], i) => {
      db.users[id] = userRecord({ id, email, displayName, passwordHash: 'x' }, T0 + i * 1000);
    });
    db.users.op = userRecord({ id: 'op', email: 'desk@example.test', displayName: 'Front desk', role: 'operator' }, T0);
  });
  const snapshots = new CollectionSnapshots(store);
  const index = new PeopleIndex(store);
  const emails = (q: string, role?: 'guest' | 'operator') =>
    searchPeople(store.db, snapshots, index, { q, ...(role ? { role } : {}) }).items.map((user) => user.email);

  assert.deepEqual(emails('ada'), ['ada.lovelace@example.test']);
  assert.deepEqual(emails('ADA LOVE'), ['ada.lovelace@example.test'], 'every word, any case');
  assert.deepEqual(emails('example'), ['alan@example.test', 'ada.lovelace@example.test', 'desk@example.test']);
  assert.deepEqual(emails('example', 'operator'), ['desk@example.test']);
  assert.deepEqual(emails('hopper grace'), ['grace@navy.test'], 'the words in any order');
  assert.deepEqual(emails('ada turing'), [], 'all the words, not any');
  assert.deepEqual(emails('@navy'), ['grace@navy.test']);
  assert.deepEqual(emails('@'), [
    'alan@example.test',
    'grace@navy.test',
    'ada.lovelace@example.test',
    'desk@example.test',
  ]);

  await store.update((db) => {
    db.users.zed = userRecord({ id: 'zed', email: 'zed@new.test', displayName: 'Zed' }, T0 + 9000);
    db.users.grace = { ...db.users.grace!, email: 'grace@retired.test' };
    delete db.users.alan;
  });
  assert.deepEqual(emails('zed'), ['zed@new.test'], 'a sign-up is found at once');
  assert.deepEqual(emails('navy'), [], 'an old email is forgotten');
  assert.deepEqual(emails('retired'), ['grace@retired.test']);
  assert.deepEqual(emails('alan'), [], 'a deleted account is gone');
});

test('a search whose words are common walks the newest accounts only as far as the page needs', async (t) => {
  const store = await tempStore(t, 'tp-h11a-people-');
  const count = PeopleIndex.GATHER_LIMIT + 200;
  await store.update((db) => {
    for (let i = 0; i < count; i += 1) {
      const id = `g${String(i).padStart(5, '0')}`;
      db.users[id] = userRecord({ id, email: `${id}@crowd.test`, displayName: `Guest ${i}` }, T0 + i);
    }
  });
  const snapshots = new CollectionSnapshots(store);
  const index = new PeopleIndex(store);
  const first = searchPeople(store.db, snapshots, index, { q: 'crowd guest' });
  assert.ok('hasMore' in first && first.hasMore, 'more follow, uncounted');
  assert.equal(first.items.length, 50);
  assert.equal(first.items[0]!.email, `g${String(count - 1).padStart(5, '0')}@crowd.test`, 'newest first');
  const third = searchPeople(store.db, snapshots, index, { q: 'crowd guest', page: 3 });
  assert.equal(third.items[0]!.email, `g${String(count - 101).padStart(5, '0')}@crowd.test`);
  const rare = searchPeople(store.db, snapshots, index, { q: 'guest 5000' });
  assert.deepEqual(
    rare.items.map((user) => user.displayName),
    ['Guest 5000'],
    'a rare word is looked up, and the page is counted',
  );
  assert.ok('total' in rare && rare.total === 1);
});
