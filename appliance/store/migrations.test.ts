import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyDb, LATEST_SCHEMA_VERSION, migrate } from './migrations.js';

/** Every version from `first` to the latest: what migrating a document of version `first - 1` applies. */
const versionsFrom = (first: number): number[] =>
  Array.from({ length: LATEST_SCHEMA_VERSION - first + 1 }, (_, index) => first + index);

test('v4 gives every existing user an empty SSH key list and keeps the rest of the user', () => {
  const { db, applied } = migrate({
    schemaVersion: 3,
    users: { u1: { id: 'u1', email: 'a@example.test', role: 'guest' } },
  });
  assert.deepEqual(applied, versionsFrom(4));
  assert.deepEqual(db.users.u1, { sshKeys: [], id: 'u1', email: 'a@example.test', role: 'guest' });
  assert.deepEqual(emptyDb().users, {});
});

test('v5 drops the journal checkpoints: db.json is stamped by the write-ahead log instead', () => {
  const { db, applied } = migrate({ schemaVersion: 4, journalCheckpoints: { accounting: 12 }, sequences: { a: 1 } });
  assert.deepEqual(applied, versionsFrom(5));
  assert.equal('journalCheckpoints' in db, false);
  assert.deepEqual(db.sequences, { a: 1 });
});

test('v6 keeps every revoked refresh-token family revoked until its last token expires, and starts with no leases', () => {
  const token = (familyId: string, expiresAt: number, revokedAt: number | null): Record<string, unknown> => ({
    familyId,
    expiresAt,
    revokedAt,
  });
  const { db, applied } = migrate({
    schemaVersion: 5,
    refreshTokens: { a: token('f1', 1_000, 500), b: token('f1', 2_000, 600), c: token('f2', 3_000, null) },
  });
  assert.deepEqual(applied, versionsFrom(6));
  assert.deepEqual(db.revokedFamilies, { f1: { familyId: 'f1', revokedAt: 500, expiresAt: 2_000 } });
  assert.deepEqual(db.leases, {});
  assert.deepEqual(emptyDb().revokedFamilies, {});
});

test('v7 gives plans no usage period, subscriptions a usage period from their start, and the venue UTC', () => {
  const { db, applied } = migrate({
    schemaVersion: 6,
    plans: { p: { id: 'p', name: 'Day' } },
    subscriptions: { s: { id: 's', startedAt: 1234 } },
    settings: { venueName: 'Cafe' },
  });
  assert.deepEqual(applied, versionsFrom(7));
  assert.equal(db.plans.p!.usagePeriod, null);
  assert.equal(db.subscriptions.s!.usagePeriodStartedAt, 1234);
  assert.deepEqual([db.settings.venueName, db.settings.timeZone], ['Cafe', 'UTC']);
});
