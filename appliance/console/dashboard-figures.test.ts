import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { emptyNasTrust } from '../nas/nas-trust.js';
import { createPlan } from '../plans/plans.js';
import { nasClientRecord } from '../testing/nas-client-record.js';
import { tempStore } from '../testing/temp-store.js';
import { createVoucherBatch } from '../vouchers/batches.js';
import { redeemVoucher } from '../vouchers/redeem.js';
import { CollectionSnapshots } from './collection-snapshots.js';
import { dashboardFigures } from './dashboard-figures.js';

test("the dashboard's today is the venue's day: a redemption at 23:30 Berlin time is not tomorrow's", async (t) => {
  const store = await tempStore(t);
  // 22:30 UTC on 3 December is 23:30 in Berlin: still the 3rd there, whatever the box's own zone.
  const clock = new ManualClock(Date.parse('2026-12-03T22:30:00Z'));
  await store.update((db) => {
    db.settings.timeZone = 'Europe/Berlin';
  });
  const plan = await createPlan(store, clock, { name: 'Day', durationSeconds: 86_400 });
  const { codes } = await createVoucherBatch(store, clock, { planId: plan.id, count: 2, createdBy: 'test' });
  await redeemVoucher(store, clock, { code: codes[0]!, mac: '02:00:00:00:00:01', deviceId: null });
  const snapshots = new CollectionSnapshots(store);

  assert.equal(dashboardFigures(store.db, snapshots, clock.now()).vouchersRedeemedToday, 1);
  clock.advance(31 * 60_000); // 00:01 on the 4th in Berlin
  assert.equal(dashboardFigures(store.db, snapshots, clock.now()).vouchersRedeemedToday, 0, 'a new venue day');
});

test('a NAS is last seen at its last authenticated packet, even with no live session', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  await store.update((db) => {
    db.nasClients.lobby = nasClientRecord({ id: 'lobby' });
    db.nasTrust = { lobby: { ...emptyNasTrust('lobby', clock.now()), lastSeenAt: clock.now() - 5_000 } };
  });
  const [lobby] = dashboardFigures(store.db, new CollectionSnapshots(store), clock.now()).nas;
  assert.deepEqual([lobby?.liveSessions, lobby?.lastSeenAt], [0, clock.now() - 5_000]);
});
