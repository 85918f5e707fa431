import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { Db, Plan } from '../domain/model.js';
import { planRecord } from '../testing/plan-record.js';
import { silentLogger } from '../../shared/logger.js';
import { openStore } from '../open-store.js';
import type { LowdbStore } from '../store/lowdb-store.js';
import { StoreAccessPolicy } from './access-policy.js';
import { recordAccounting, sessionIdOf, type AccountingEvent } from './accounting.js';
import type { DynamicAuthorizationPort, DynamicAuthorizationResult, DynamicAuthorizationTarget } from './enforcer.js';
import { SessionEnforcer } from './enforcer.js';
import type { SessionLimits } from './limits.js';
import { PasswordCache } from './password-cache.js';
import { startSessionSweeper, sweepSessions } from './sweeper.js';
import { nasClientRecord } from '../testing/nas-client-record.js';
import { subscriptionRecord } from '../testing/subscription-record.js';

const GIB = 2 ** 30;

function plan(overrides: Partial<Plan> = {}): Plan {
  return planRecord({
    id: 'p',
    name: 'Plan',
    quotaBytes: GIB,
    bandwidthUpKbps: 1000,
    bandwidthDownKbps: 5000,
    ...overrides,
  });
}

/** Records every request instead of talking to a NAS; answers ACK, or what `answer` says. */
class RecordingPort implements DynamicAuthorizationPort {
  readonly calls: Array<{
    kind: string;
    acctSessionId: string | null;
    upKbps?: number | null;
    sessionTimeout?: number | null;
  }> = [];
  constructor(readonly answer: DynamicAuthorizationResult = { outcome: 'ack', attempts: 1 }) {}
  async disconnect(target: DynamicAuthorizationTarget): Promise<DynamicAuthorizationResult> {
    this.calls.push({ kind: 'disconnect', acctSessionId: target.session.acctSessionId });
    return this.answer;
  }
  async changeAuthorization(
    target: DynamicAuthorizationTarget,
    limits: SessionLimits,
  ): Promise<DynamicAuthorizationResult> {
    this.calls.push({
      kind: 'coa',
      acctSessionId: target.session.acctSessionId,
      upKbps: limits.upKbps,
      ...(limits.sessionTimeout === null ? {} : { sessionTimeout: limits.sessionTimeout }),
    });
    return this.answer;
  }
}

describe('sessions: accounting, quotas, the sweeper and the login policy', () => {
  let dir: string;
  let store: LowdbStore;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnpike-sessions-'));
    // No checkpoint during a test: what is in db.json then is what a crash would leave.
    store = await openStore({ dir, checkpoint: { intervalMs: 3_600_000 } });
    clock = new ManualClock();
    const now = clock.now();
    await store.update((db) => {
      db.plans.p = plan();
      db.nasClients.nas = nasClientRecord({ id: 'nas', createdAt: now });
      db.subscriptions.s = subscriptionRecord({ id: 's', userId: 'u', planId: 'p' }, now);
    });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const event = (overrides: Partial<AccountingEvent>): AccountingEvent => ({
    nasId: 'nas',
    status: 'interim',
    acctSessionId: 'a',
    subscriptionId: 's',
    mac: '02:00:00:00:00:01',
    ip: null,
    inputOctets: 0,
    outputOctets: 0,
    sessionTime: null,
    terminateCause: null,
    interimIntervalSeconds: 60,
    ...overrides,
  });

  it("charges all of an owner's devices to one quota and ends every session when it is spent", async () => {
    await store.update((db) => {
      db.plans.p!.maxDevices = 2;
    });
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'phone' }));
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'laptop', mac: '02:00:00:00:00:02' }));
    const first = await recordAccounting(store, clock, event({ acctSessionId: 'phone', inputOctets: GIB / 2 }));
    assert.deepEqual(first.actions, []);
    const crossing = await recordAccounting(
      store,
      clock,
      event({ acctSessionId: 'laptop', mac: '02:00:00:00:00:02', outputOctets: GIB / 2 }),
    );
    assert.equal(store.db.subscriptions.s!.bytesUsed, GIB);
    assert.deepEqual(crossing.actions.map((action) => [action.action, action.sessionId]).sort(), [
      ['disconnect', sessionIdOf('nas', 'laptop')],
      ['disconnect', sessionIdOf('nas', 'phone')],
    ]);
  });

  it('accounting acknowledged before a crash is back after a restart and is not charged twice', async () => {
    await recordAccounting(store, clock, event({ status: 'start' }));
    await recordAccounting(store, clock, event({ inputOctets: 1000 }));
    const onDisk = JSON.parse(await readFile(join(dir, 'db.json'), 'utf8')) as Db;
    assert.equal(onDisk.sessions[sessionIdOf('nas', 'a')], undefined, 'db.json has not caught up yet');

    const restarted = await openStore({ dir });
    try {
      assert.deepEqual(restarted.db.sessions, store.db.sessions);
      assert.equal(restarted.db.subscriptions.s!.bytesUsed, 1000);
      await recordAccounting(restarted, clock, event({ inputOctets: 1000 }));
      assert.equal(restarted.db.subscriptions.s!.bytesUsed, 1000, 'a retransmitted update charges nothing again');
    } finally {
      await restarted.close();
    }
  });

  it('throttles instead of cutting when the plan says so, and never refunds a counter that restarted', async () => {
    await store.update((db) => {
      db.plans.p!.onQuotaExhausted = { action: 'throttle', upKbps: 64, downKbps: 128 };
    });
    await recordAccounting(store, clock, event({ status: 'start' }));
    const result = await recordAccounting(store, clock, event({ inputOctets: GIB + 5 }));
    assert.deepEqual(result.actions, [
      { action: 'throttle', sessionId: sessionIdOf('nas', 'a'), rate: { upKbps: 64, downKbps: 128 } },
    ]);
    await recordAccounting(store, clock, event({ inputOctets: 10 }));
    assert.equal(store.db.subscriptions.s!.bytesUsed, GIB + 5);
    await recordAccounting(store, clock, event({ inputOctets: 30 }));
    assert.equal(store.db.subscriptions.s!.bytesUsed, GIB + 25);
  });

  it('closes a session with no update for staleFactor × its interim interval into the history', async () => {
    await store.update((db) => {
      db.plans.p!.maxDevices = 2;
    });
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'zombie' }));
    clock.advance(100_000);
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'alive' }));
    clock.advance(51_000);
    const swept = await sweepSessions(store, clock, 2.5);
    assert.deepEqual(
      swept.closed.map((session) => session.acctSessionId),
      ['zombie'],
    );
    assert.ok(store.db.sessions[sessionIdOf('nas', 'alive')]);
    const history = await store.history<{ acctSessionId: string; reason: string }>('closed-sessions').readAll();
    assert.deepEqual(
      history.map((record) => [record.acctSessionId, record.reason]),
      [['zombie', 'stale']],
    );
    const late = await recordAccounting(
      store,
      clock,
      event({ status: 'stop', acctSessionId: 'zombie', inputOctets: 999 }),
    );
    assert.equal(late.chargedBytes, 0, 'a Stop for a session already closed charges nothing twice');
  });

  it("a Start reusing a live session's id for another device (a NAS rebooted without Accounting-On) opens a new session instead of merging", async () => {
    await store.update((db) => {
      db.plans.p!.maxDevices = 2;
    });
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'x1' }));
    const firstStart = store.db.sessions[sessionIdOf('nas', 'x1')]!.startedAt;
    clock.advance(1000);
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'x1' }));
    const again = store.db.sessions[sessionIdOf('nas', 'x1')]!;
    assert.equal(again.startedAt, firstStart, 'a retransmitted Start is the same session');
    await recordAccounting(store, clock, event({ acctSessionId: 'x1', inputOctets: 5000 }));

    clock.advance(1000);
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'x1', mac: '02:00:00:00:00:09' }));
    const live = store.db.sessions[sessionIdOf('nas', 'x1')]!;
    assert.equal(live.mac, '02:00:00:00:00:09');
    assert.equal(live.inputOctets, 0, "the new guest's session starts from zero");
    const closed = await store.history<{ mac: string; reason: string }>('closed-sessions').readAll();
    assert.deepEqual(
      closed.map((record) => [record.mac, record.reason]),
      [['02:00:00:00:00:01', 'session-id-reused']],
    );
  });

  it('a sweep that finds nothing to close writes nothing', async () => {
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'alive' }));
    let writes = 0;
    store.onWrite(() => (writes += 1));
    const swept = await sweepSessions(store, clock, 2.5);
    assert.deepEqual(swept, { closed: [], actions: [] });
    assert.equal(writes, 0);
  });

  it('the sweeper asks the NAS to end sessions of a cancelled subscription and records the answer', async () => {
    await recordAccounting(store, clock, event({ status: 'start' }));
    await store.update((db) => {
      db.subscriptions.s!.status = 'cancelled';
    });
    const port = new RecordingPort();
    const enforcer = new SessionEnforcer({ store, clock, port, logger: silentLogger });
    const sweeper = startSessionSweeper({
      store,
      clock,
      enforcer,
      logger: silentLogger,
      staleFactor: 2.5,
      intervalMs: 3_600_000,
    });
    try {
      const result = await sweeper.sweep();
      assert.deepEqual(result.actions, [
        { action: 'disconnect', sessionId: sessionIdOf('nas', 'a'), reason: 'subscription-cancelled' },
      ]);
      for (let i = 0; i < 50 && port.calls.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(port.calls, [{ kind: 'disconnect', acctSessionId: 'a' }]);
    } finally {
      sweeper.stop();
    }
  });

  it('extending a subscription under a live session sends the NAS one CoA with the new Session-Timeout', async () => {
    await store.update((db) => {
      db.subscriptions.t = { ...db.subscriptions.s!, id: 't', userId: 'u2' };
    });
    await recordAccounting(store, clock, event({ status: 'start', acctSessionId: 'mine' }));
    await recordAccounting(
      store,
      clock,
      event({ status: 'start', acctSessionId: 'theirs', subscriptionId: 't', mac: '02:00:00:00:00:02' }),
    );
    clock.advance(600_000);
    await store.update((db) => {
      db.subscriptions.s!.endsAt! += 3_600_000;
    });
    const port = new RecordingPort();
    const enforcer = new SessionEnforcer({ store, clock, port, logger: silentLogger });
    const outcomes = await enforcer.refreshLimits('s');
    assert.deepEqual(port.calls, [{ kind: 'coa', acctSessionId: 'mine', upKbps: 1000, sessionTimeout: 7200 - 600 }]);
    assert.deepEqual(outcomes, [
      { sessionId: sessionIdOf('nas', 'mine'), kind: 'coa', result: { outcome: 'ack', attempts: 1 } },
    ]);
    const history = await store.history<{ kind: string; reason: string; acctSessionId: string }>('coa').readAll();
    assert.deepEqual(
      history.map((record) => [record.kind, record.reason, record.acctSessionId]),
      [['coa', 'limits-changed', 'mine']],
    );
  });

  it('a NAK to new limits leaves the session live and undisturbed, bounded by the old timeout', async () => {
    await recordAccounting(store, clock, event({ status: 'start' }));
    const port = new RecordingPort({
      outcome: 'nak',
      attempts: 1,
      errorCause: 506,
      errorCauseName: 'Resources-Unavailable',
    });
    const enforcer = new SessionEnforcer({ store, clock, port, logger: silentLogger });
    const [outcome] = await enforcer.refreshLimits('s');
    assert.equal(outcome?.result.outcome, 'nak');
    const session = store.db.sessions[sessionIdOf('nas', 'a')];
    assert.ok(session, 'the session is still live');
    assert.equal(session.disconnectPendingSince, null, 'a refused change is no disconnect');
    const [record] = await store.history<{ outcome: string; errorCause: number }>('coa').readAll();
    assert.equal(record?.outcome, 'nak');
    assert.equal(record?.errorCause, 506);
  });

  it('asks no NAS for new limits of a subscription that no longer carries a session, nor of a gateway-mode session', async () => {
    await recordAccounting(store, clock, event({ status: 'start' }));
    await store.update((db) => {
      db.sessions[sessionIdOf('nas', 'a')]!.mode = 'gateway';
      db.sessions[sessionIdOf('nas', 'a')]!.nasId = null;
    });
    const port = new RecordingPort();
    const enforcer = new SessionEnforcer({ store, clock, port, logger: silentLogger });
    const [gateway] = await enforcer.refreshLimits('s');
    assert.deepEqual(gateway?.result, { outcome: 'skipped', why: 'gateway mode is off' }, 'the firewall enforces it');
    await store.update((db) => {
      db.sessions[sessionIdOf('nas', 'a')]!.mode = 'controller';
      db.sessions[sessionIdOf('nas', 'a')]!.nasId = 'nas';
      db.subscriptions.s!.status = 'suspended';
    });
    const [outcome] = await enforcer.refreshLimits('s');
    assert.equal(outcome?.result.outcome, 'skipped');
    assert.deepEqual(port.calls, []);
  });

  it("a login is refused once the owner's device limit is reached, but the same device may sign in again", async () => {
    await store.update((db) => {
      db.devices.d1 = {
        id: 'd1',
        ownerKey: 'user:u',
        mac: '02:00:00:00:00:01',
        label: '',
        firstSeenAt: 0,
        lastSeenAt: 0,
      };
      db.devices.d2 = {
        id: 'd2',
        ownerKey: 'user:u',
        mac: '02:00:00:00:00:02',
        label: '',
        firstSeenAt: 0,
        lastSeenAt: 0,
      };
    });
    await recordAccounting(store, clock, event({ status: 'start' }));
    const policy = new StoreAccessPolicy({ store, clock, verifyPassword: async () => false, passwordCacheSeconds: 60 });
    const login = (mac: string): Promise<{ ok: boolean; code?: string }> =>
      Promise.resolve(policy.authorize({ userName: mac, proof: { kind: 'none' }, mac, ip: null })).then((d) =>
        d.ok ? { ok: true } : { ok: false, code: d.code },
      );
    assert.deepEqual(await login('02:00:00:00:00:01'), { ok: true });
    assert.deepEqual(await login('02:00:00:00:00:02'), { ok: false, code: 'TP_ERR_DEVICE_LIMIT' });
    await store.update((db) => {
      db.subscriptions.s!.status = 'suspended';
    });
    assert.deepEqual(await login('02:00:00:00:00:01'), { ok: false, code: 'TP_ERR_ENTITLEMENT_EXPIRED' });
  });

  it('verifies a password with bcrypt once, then answers from the cache until the hash changes', async () => {
    let calls = 0;
    const cache = new PasswordCache({
      verify: async (password) => (calls++, password === 'right'),
      clock,
      ttlSeconds: 60,
    });
    assert.equal(await cache.check('u', 'hash-1', 'right'), true);
    assert.equal(await cache.check('u', 'hash-1', 'right'), true);
    assert.equal(await cache.check('u', 'hash-1', 'wrong'), false);
    assert.equal(await cache.check('u', 'hash-1', 'wrong'), false);
    assert.equal(calls, 2);
    assert.equal(await cache.check('u', 'hash-2', 'right'), true, 'a new password hash is checked afresh');
    clock.advance(61_000);
    await cache.check('u', 'hash-2', 'right');
    assert.equal(calls, 4, 'entries expire');
  });
});
