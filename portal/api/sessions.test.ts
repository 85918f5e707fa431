import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlan } from '../../appliance/plans/plans.js';
import { addBytesUsed, grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { startGuestPortal, type GuestPortalHarness } from '../testing/guest-portal-harness.js';
import { recordingEnforcer } from '../testing/recording-enforcer.js';

async function seedLiveSession(h: GuestPortalHarness): Promise<{ sessionId: string; subscriptionId: string }> {
  const plan = await createPlan(h.store, h.clock, { name: 'Hour', durationSeconds: 3600, quotaBytes: 1_000_000 });
  const subscription = await grantSubscription(h.store, h.clock, {
    userId: null,
    voucherCode: 'DESK-AAAAA-BBBBB',
    plan,
    source: 'voucher',
    sourceRef: 'DESK-AAAAA-BBBBB',
  });
  await addBytesUsed(h.store, h.clock, subscription.id, 250_000);
  const startedAt = h.clock.now();
  await h.store.update((db) => {
    db.nasClients['nas-1'] = {
      id: 'nas-1',
      name: 'lobby-ap',
      source: '127.0.0.1',
      secret: 'not-a-real-secret',
      dialect: 'coovachilli',
      coaPort: 3799,
      requireMessageAuthenticator: true,
      createdAt: startedAt,
    };
    db.sessions['live-1'] = {
      id: 'live-1',
      subscriptionId: subscription.id,
      ownerKey: 'voucher:DESK-AAAAA-BBBBB',
      nasId: 'nas-1',
      acctSessionId: '4f2a',
      mode: 'controller',
      mac: 'aa:bb:cc:dd:ee:ff',
      ip: '10.1.0.23',
      startedAt,
      lastUpdateAt: startedAt + 300_000,
      interimIntervalSeconds: 300,
      inputOctets: 150_000,
      outputOctets: 100_000,
      chargedOctets: 250_000,
      disconnectPendingSince: null,
    };
  });
  h.clock.advance(600_000);
  return { sessionId: 'live-1', subscriptionId: subscription.id };
}

test('staff see live sessions with owner, NAS and what is left of the plan', async (t) => {
  const h = await startGuestPortal(t, { enforcer: recordingEnforcer() });
  const { subscriptionId } = await seedLiveSession(h);
  const operator = { authorization: `Bearer ${await h.tokenFor('operator')}` };

  const res = await h.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: operator });
  assert.equal(res.statusCode, 200, res.body);
  const { sessions } = res.json();
  assert.equal(sessions.length, 1);
  assert.deepEqual(sessions[0], {
    id: 'live-1',
    subscriptionId,
    ownerKey: 'voucher:DESK-AAAAA-BBBBB',
    mode: 'controller',
    nasId: 'nas-1',
    nasName: 'lobby-ap',
    mac: 'aa:bb:cc:dd:ee:ff',
    ip: '10.1.0.23',
    startedAt: sessions[0].startedAt,
    lastUpdateAt: sessions[0].startedAt + 300_000,
    inputOctets: 150_000,
    outputOctets: 100_000,
    planName: 'Hour',
    secondsLeft: 3000,
    bytesLeft: 750_000,
    disconnectPending: false,
  });
  assert.ok(!('secret' in sessions[0]) && !res.body.includes('not-a-real-secret'), 'no NAS secret leaks');
});

test('guests are refused the session list and the kick; the anonymous must sign in', async (t) => {
  const enforcer = recordingEnforcer();
  const h = await startGuestPortal(t, { enforcer });
  await seedLiveSession(h);
  const guest = { authorization: `Bearer ${await h.tokenFor('guest')}` };
  for (const [method, url] of [
    ['GET', '/api/v1/sessions'],
    ['DELETE', '/api/v1/sessions/live-1'],
  ] as const) {
    assert.equal((await h.app.inject({ method, url, headers: guest })).statusCode, 403, `${method} ${url} as guest`);
    assert.equal((await h.app.inject({ method, url })).statusCode, 401, `${method} ${url} anonymously`);
  }
  assert.deepEqual(enforcer.kicks, []);
});

test('an operator kicks a session once through the enforcer, answered with the NAS outcome and audited', async (t) => {
  const enforcer = recordingEnforcer();
  const h = await startGuestPortal(t, { enforcer });
  const { sessionId } = await seedLiveSession(h);
  const operator = { authorization: `Bearer ${await h.tokenFor('operator')}` };

  const kicked = await h.app.inject({ method: 'DELETE', url: `/api/v1/sessions/${sessionId}`, headers: operator });
  assert.equal(kicked.statusCode, 200, kicked.body);
  assert.deepEqual(kicked.json(), { sessionId, kind: 'disconnect', outcome: 'ack', attempts: 1 });
  assert.deepEqual(enforcer.kicks, [sessionId]);

  const audit = await h.store.history('audit').readAll();
  const entry = audit.find((record) => (record as { action?: string }).action === 'session.kicked') as
    { target: string; actorId: string; details: { sessionId: string; outcome: string } } | undefined;
  assert.ok(entry, 'the kick is in the audit history');
  assert.equal(entry.target, 'voucher:DESK-AAAAA-BBBBB');
  assert.equal(entry.details.sessionId, sessionId);
  assert.equal(entry.details.outcome, 'ack');
  assert.equal(typeof entry.actorId, 'string');

  const unknown = await h.app.inject({ method: 'DELETE', url: '/api/v1/sessions/no-such', headers: operator });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'TP_ERR_NOT_FOUND');
  assert.deepEqual(enforcer.kicks, [sessionId], 'an unknown id never reaches the NAS');
});

test('the staff routes are in the route table: never public, never for guests, writes for admins but the kick', async (t) => {
  const h = await startGuestPortal(t, { enforcer: recordingEnforcer() });
  const staffRoutes = h.app.routeTable
    .filter((route) => route.method !== 'HEAD')
    .filter((route) => route.url.startsWith('/api/v1/sessions') || route.url.startsWith('/api/v1/subscriptions'))
    .map((route) => `${route.method} ${route.url} ${route.public ? 'public' : (route.roles ?? []).join('+')}`)
    .sort();
  assert.deepEqual(staffRoutes, [
    'DELETE /api/v1/sessions/:id operator+admin',
    'GET /api/v1/sessions operator+admin',
    'GET /api/v1/subscriptions operator+admin',
    'POST /api/v1/subscriptions admin',
    'POST /api/v1/subscriptions/:id/extend admin',
  ]);
});
