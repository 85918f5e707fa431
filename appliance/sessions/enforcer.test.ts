import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { desiredClients } from '../provisioning/desired-state.js';
import { extendSubscription } from '../subscriptions/subscriptions.js';
import { gatewayVenue, OPEN_ENDED_SECONDS } from '../testing/gateway-guests.js';

/** A guest online in gateway mode on an hour's plan. */
async function gatewayGuest(t: TestContext) {
  const venue = await gatewayVenue(t);
  const subscription = await venue.pay(
    await venue.plan({ name: 'Hour', durationSeconds: 3600, bandwidthDownKbps: 4000 }),
  );
  const session = await venue.connect();
  return { ...venue, sessionId: session.id, subscription };
}

test('a staff kick of a gateway session revokes its firewall entry, and the reconcile loop keeps it out', async (t) => {
  const { store, clock, accessPort, enforcer, sessionId } = await gatewayGuest(t);
  assert.equal(accessPort.isAllowed('10.1.0.5'), true);
  const outcome = await enforcer.kick(sessionId);
  assert.deepEqual(outcome, { sessionId, kind: 'disconnect', result: { outcome: 'ack', attempts: 1 } });
  assert.equal(accessPort.isAllowed('10.1.0.5'), false);
  assert.equal(store.db.sessions[sessionId], undefined);
  assert.equal(desiredClients(store.db, clock.now(), { openEndedSeconds: OPEN_ENDED_SECONDS }).size, 0);
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
