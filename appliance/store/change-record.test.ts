import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, loggedChangesOf } from './change-record.js';

const before = () => ({
  subscriptions: {
    s1: { id: 's1', bytesUsed: 10, topUpBytes: 5, window: { from: 1, to: 2 } },
  },
  settings: { timeZone: 'UTC', venue: 'Cafe' },
});

test('a row that existed is logged as the fields the change set and removed; a new or deleted row whole', () => {
  const state = before();
  const { s1 } = state.subscriptions;
  const updated = { id: 's1', bytesUsed: 20, window: s1.window, note: undefined };
  assert.deepEqual(
    loggedChangesOf(state, [
      { table: 'subscriptions', id: 's1', value: updated },
      { table: 'subscriptions', id: 's2', value: { id: 's2', bytesUsed: 0 } },
      { table: 'subscriptions', id: 's1', value: null },
      { table: '$documents', id: 'settings', value: { timeZone: 'Europe/Paris', venue: 'Cafe' } },
    ]),
    [
      // The nested `window` is the same object, so unchanged; a field set to undefined is gone, as JSON has it.
      { table: 'subscriptions', id: 's1', set: { bytesUsed: 20 }, unset: ['topUpBytes'] },
      { table: 'subscriptions', id: 's2', value: { id: 's2', bytesUsed: 0 } },
      { table: 'subscriptions', id: 's1', value: null },
      { table: '$documents', id: 'settings', set: { timeZone: 'Europe/Paris' } },
    ],
  );
});

test('a patch replayed over its row gives the row the change wrote, as a new object', () => {
  const state = before();
  const old = state.subscriptions.s1;
  const after = { id: 's1', bytesUsed: 20, window: { from: 1, to: 3 } };
  applyChanges(state, loggedChangesOf(state, [{ table: 'subscriptions', id: 's1', value: after }]));
  assert.deepEqual(state.subscriptions.s1, after);
  assert.equal(old.bytesUsed, 10, 'a reader holding the old row still sees it as it was');
});

test('a patch replayed over a row that is gone is skipped: a later record in the log deleted it', () => {
  const state = before();
  applyChanges(state, [{ table: 'subscriptions', id: 's1', value: null }]);
  applyChanges(state, [{ table: 'subscriptions', id: 's1', set: { bytesUsed: 30 } }]);
  assert.deepEqual(state.subscriptions, {});
});
