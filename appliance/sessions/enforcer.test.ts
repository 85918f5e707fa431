import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { GuestAccess } from '../guest-access/guest-access.js';
import { silentLogger } from '../../shared/logger.js';
import { createPlan } from '../plans/plans.js';
import { MemoryAccessPort } from '../provisioning/access-port.js';
import { desiredClients } from '../provisioning/desired-state.js';
import { extendSubscription, grantSubscription } from '../subscriptions/subscriptions.js';
import { tempStore } from '../testing/temp-store.js';
import { SessionEnforcer, type DynamicAuthorizationPort } from './enforcer.js';

const nasMustNotBeAsked: DynamicAuthorizationPort = {
  disconnect: () => Promise.reject(new Error('a gateway session has no NAS')),
  changeAuthorization: () => Promise.reject(new Error('a gateway session has no NAS')),
};

/** A guest online in gateway mode, and the enforcer every cause goes through. */
async function gatewayGuest(t: TestContext) {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const accessPort = new MemoryAccessPort({ clock });
  const plan = await createPlan(store, clock, { name: 'Hour', durationSeconds: 3600, bandwidthDownKbps: 4000 });
  const subscription = await grantSubscription(store, clock, {
    userId: 'u1',
    voucherCode: null,
    plan,
    source: 'payment',
    sourceRef: null,
  });
  const access = new GuestAccess({
    store,
    clock,
    accessPort,
    logger: silentLogger,
    interimIntervalSeconds: 300,
    openEndedSeconds: 7200,
  });
  const connected = await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:bb:cc:00:00:01',
    ip: '10.1.0.5',
    deviceId: null,
    mode: 'gateway',
  });
  const sessionId = connected.mode === 'gateway' ? connected.session.id : '';
  const enforcer = new SessionEnforcer({
    store,
    clock,
    port: nasMustNotBeAsked,
    logger: silentLogger,
    gateway: { accessPort, openEndedSeconds: 7200 },
  });
  return { store, clock, accessPort, enforcer, sessionId, subscription };
}

test('a staff kick of a gateway session revokes its firewall entry, and the reconcile loop keeps it out', async (t) => {
  const { store, clock, accessPort, enforcer, sessionId } = await gatewayGuest(t);
  assert.equal(accessPort.isAllowed('10.1.0.5'), true);
  const outcome = await enforcer.kick(sessionId);
  assert.deepEqual(outcome, { sessionId, kind: 'disconnect', result: { outcome: 'ack', attempts: 1 } });
  assert.equal(accessPort.isAllowed('10.1.0.5'), false);
  assert.equal(store.db.sessions[sessionId], undefined);
  assert.equal(desiredClients(store.db, clock.now(), { openEndedSeconds: 7200 }).size, 0);
  const closed = await store.history<{ id: string; reason: string }>('closed-sessions').readAll();
  assert.deepEqual(
    closed.map((record) => [record.id, record.reason]),
    [[sessionId, 'staff-kick']],
  );
});

test('an extended plan reaches a gateway session as a new firewall time, like a CoA would', async (t) => {
  const { store, clock, accessPort, enforcer, sessionId, subscription } = await gatewayGuest(t);
  clock.advance(600_000);
  await extendSubscription(store, clock, subscription.id, 3600);
  const [outcome] = await enforcer.refreshLimits(subscription.id);
  assert.deepEqual(outcome, { sessionId, kind: 'coa', result: { outcome: 'ack', attempts: 1 } });
  const [entry] = accessPort.allowed();
  assert.equal(entry?.seconds, 3600 - 600 + 3600);
  assert.equal(entry?.downKbps, 4000);
});
