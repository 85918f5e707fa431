import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyDb, LATEST_SCHEMA_VERSION, migrate } from './migrations.js';

test('v4 gives every existing user an empty SSH key list and keeps the rest of the user', () => {
  const { db, applied } = migrate({
    schemaVersion: 3,
    users: { u1: { id: 'u1', email: 'a@example.test', role: 'guest' } },
  });
  assert.deepEqual(applied, [4]);
  assert.equal(LATEST_SCHEMA_VERSION, 4);
  assert.deepEqual(db.users.u1, { sshKeys: [], id: 'u1', email: 'a@example.test', role: 'guest' });
  assert.deepEqual(emptyDb().users, {});
});
