import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { Db } from '../domain/model.js';
import type { LowdbStore } from '../store/lowdb-store.js';
import { planRecord } from '../testing/plan-record.js';
import { tempStore } from '../testing/temp-store.js';
import { userRecord } from '../testing/user-record.js';
import { createVoucherBatch } from '../vouchers/batches.js';
import { recordAccounting } from './accounting.js';
import { StoreAccessPolicy } from './access-policy.js';
import { subscriptionRecord } from '../testing/subscription-record.js';

/**
 * Counts walks of one collection of the live state (every full enumeration goes through
 * `ownKeys`), so a test can say "no packet walked the users" without timing anything.
 */
function countWalks(
  store: LowdbStore,
  collection: 'users' | 'devices' | 'subscriptions' | 'sessions',
): { walks: number } {
  const counter = { walks: 0 };
  const state = store.db as Db;
  state[collection] = new Proxy(state[collection], {
    ownKeys(target) {
      counter.walks += 1;
      return Reflect.ownKeys(target);
    },
  }) as never;
  return counter;
}

async function populated(t: TestContext, users: number): Promise<{ store: LowdbStore; clock: ManualClock }> {
  const store = await tempStore(t, 'tp-indexes-');
  const clock = new ManualClock(1_700_000_000_000);
  const now = clock.now();
  await store.update((db) => {
    db.plans.p = planRecord({ id: 'p', maxDevices: 3 });
    for (let i = 0; i < users; i++) {
      db.users[`u${i}`] = userRecord({ id: `u${i}`, email: `guest${i}@example.org` }, now);
      db.devices[`d${i}`] = {
        id: `d${i}`,
        ownerKey: `user:u${i}`,
        mac: `02:00:00:00:${String(Math.floor(i / 100)).padStart(2, '0')}:${String(i % 100).padStart(2, '0')}`,
        label: '',
        firstSeenAt: now,
        lastSeenAt: now,
      };
    }
    db.subscriptions.s = subscriptionRecord({ id: 's', userId: 'u7', planId: 'p' }, now);
  });
  return { store, clock };
}

const policyOf = (store: LowdbStore, clock: ManualClock): StoreAccessPolicy =>
  new StoreAccessPolicy({ store, clock, verifyPassword: async () => false, passwordCacheSeconds: 60 });

const methodFor = async (policy: StoreAccessPolicy, userName: string): Promise<string> =>
  (await policy.authorize({ userName, proof: { kind: 'pap', password: Buffer.from('x') }, mac: null, ip: null }))
    .method;

describe('per-packet lookups read indexes kept by the store, never walk a collection', () => {
  it('a User-Name with "@" that matches no one walks no users, however many packets come', async (t) => {
    const { store, clock } = await populated(t, 500);
    const policy = policyOf(store, clock);
    assert.equal(await methodFor(policy, 'guest3@example.org'), 'password', 'the index is built at the first lookup');
    const users = countWalks(store, 'users');
    for (let i = 0; i < 300; i++) assert.equal(await methodFor(policy, `nobody-${i}@example.org`), 'unknown');
    assert.equal(users.walks, 0);
  });

  it('an account added, renamed or deleted after the index was built is seen by the next packet', async (t) => {
    const { store, clock } = await populated(t, 50);
    const policy = policyOf(store, clock);
    assert.equal(await methodFor(policy, 'late@example.org'), 'unknown');
    const users = countWalks(store, 'users');
    await store.update((db) => {
      db.users.late = userRecord({ id: 'late', email: 'Late@Example.org' }, clock.now());
    });
    assert.equal(await methodFor(policy, 'late@example.org'), 'password');
    await store.update((db) => {
      db.users.late = { ...db.users.late!, email: 'renamed@example.org' };
    });
    assert.equal(await methodFor(policy, 'late@example.org'), 'unknown');
    assert.equal(await methodFor(policy, 'renamed@example.org'), 'password');
    await store.update((db) => {
      delete db.users.late;
    });
    assert.equal(await methodFor(policy, 'renamed@example.org'), 'unknown');
    assert.equal(users.walks, 0);
  });

  it('an Accounting Start without Class finds its device by MAC without walking the devices', async (t) => {
    const { store, clock } = await populated(t, 500);
    const start = (acctSessionId: string, mac: string): ReturnType<typeof recordAccounting> =>
      recordAccounting(store, clock, {
        nasId: 'nas',
        status: 'start',
        acctSessionId,
        subscriptionId: null,
        mac,
        ip: null,
        inputOctets: 0,
        outputOctets: 0,
        sessionTime: null,
        terminateCause: null,
        interimIntervalSeconds: 300,
      });
    assert.equal((await start('warm-up', '02:00:00:00:00:01')).session, null, 'u1 has no subscription');
    const devices = countWalks(store, 'devices');
    const bound = await start('a', '02:00:00:00:00:07');
    assert.equal(bound.session?.subscriptionId, 's');
    for (let i = 0; i < 50; i++) await start(`x${i}`, '02:00:00:00:04:99');
    assert.equal(devices.walks, 0);
  });

  it('a voucher login from a new device redeems without walking the subscriptions or the devices', async (t) => {
    const { store, clock } = await populated(t, 500);
    const { codes } = await createVoucherBatch(store, clock, { planId: 'p', count: 2, createdBy: 'staff' });
    const policy = policyOf(store, clock);
    const login = async (code: string, mac: string) =>
      policy.authorize({ userName: code, proof: { kind: 'pap', password: Buffer.from(code) }, mac, ip: null });
    assert.equal((await login(codes[0]!, '02:00:00:00:aa:01')).ok, true, 'warm-up');
    const subscriptions = countWalks(store, 'subscriptions');
    const devices = countWalks(store, 'devices');
    assert.equal((await login(codes[1]!, '02:00:00:00:aa:02')).ok, true, 'redeemed by a new device');
    assert.equal((await login(codes[1]!, '02:00:00:00:aa:02')).ok, true, 'and that device again');
    assert.deepEqual([subscriptions.walks, devices.walks], [0, 0]);
  });

  it('a quota crossed by one device ends every session of the subscription without walking the live sessions', async (t) => {
    const { store, clock } = await populated(t, 10);
    await store.update((db) => {
      db.plans.p = { ...db.plans.p!, quotaBytes: 1000 };
    });
    const report = (acctSessionId: string, status: 'start' | 'interim', inputOctets: number) =>
      recordAccounting(store, clock, {
        nasId: 'nas',
        status,
        acctSessionId,
        subscriptionId: 's',
        mac: null,
        ip: null,
        inputOctets,
        outputOctets: 0,
        sessionTime: null,
        terminateCause: null,
        interimIntervalSeconds: 300,
      });
    await report('phone', 'start', 0);
    await report('laptop', 'start', 0);
    const sessions = countWalks(store, 'sessions');
    const crossing = await report('phone', 'interim', 2000);
    assert.deepEqual(crossing.actions.map((action) => action.sessionId).sort(), ['nas/laptop', 'nas/phone']);
    assert.equal(sessions.walks, 0);
  });
});
