import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { createPlan } from '../plans/plans.js';
import { tempStore } from '../testing/temp-store.js';
import {
  addBytesUsed,
  expireDue,
  expireSubscription,
  extendSubscription,
  grantSubscription,
  staffGrant,
  subscriptionsOf,
} from './subscriptions.js';
import { userRecord } from '../testing/user-record.js';

test('a subscription records plan, start, end, bytes and source; extending adds to the end or restarts from now', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const plan = await createPlan(store, clock, { name: 'Hour', durationSeconds: 3600, quotaBytes: 1000 });
  const sub = await grantSubscription(store, clock, {
    userId: 'u1',
    voucherCode: null,
    plan,
    source: 'payment',
    sourceRef: 'pi_1',
  });
  assert.deepEqual(
    [sub.planId, sub.startedAt, sub.endsAt, sub.bytesUsed, sub.source, sub.sourceRef],
    [plan.id, clock.now(), clock.now() + 3600_000, 0, 'payment', 'pi_1'],
  );
  const extended = await extendSubscription(store, clock, sub.id, 1800);
  assert.equal(extended.endsAt, sub.endsAt! + 1800_000);
  await addBytesUsed(store, clock, sub.id, 400);
  assert.equal(subscriptionsOf(store, 'user:u1', clock.now())[0]?.bytesLeft, 600);
  clock.advance(2 * 3600_000);
  assert.equal(await expireDue(store, clock), 1);
  assert.equal(store.db.subscriptions[sub.id]!.status, 'expired');
  const again = await extendSubscription(store, clock, sub.id, 600);
  assert.equal(again.status, 'active');
  assert.equal(again.endsAt, clock.now() + 600_000, 'an expired one restarts from now');
  const ended = await expireSubscription(store, clock, sub.id);
  assert.equal(ended.status, 'expired');
  assert.equal(subscriptionsOf(store, 'user:u1', clock.now())[0]?.usable, false);
  await assert.rejects(addBytesUsed(store, clock, sub.id, -1), (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'));
});

test('a staff grant names the staff member and needs a real user and plan', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const plan = await createPlan(store, clock, { name: 'Day', durationSeconds: 86_400 });
  await assert.rejects(staffGrant(store, clock, { userId: 'ghost', planId: plan.id, staffUserId: 's1' }), (err) =>
    isTurnpikeError(err, 'TP_ERR_NOT_FOUND'),
  );
  await store.update((db) => {
    db.users.u1 = userRecord({ id: 'u1', displayName: 'U', passwordHash: 'x' });
  });
  const granted = await staffGrant(store, clock, { userId: 'u1', planId: plan.id, staffUserId: 's1' });
  assert.equal(granted.source, 'staff-grant');
  assert.equal(granted.sourceRef, 's1');
});
