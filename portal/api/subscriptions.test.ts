import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlan } from '../../appliance/plans/plans.js';
import { startGuestPortal, type GuestPortalHarness } from '../testing/guest-portal-harness.js';
import { recordingEnforcer } from '../testing/recording-enforcer.js';

async function setUp(h: GuestPortalHarness) {
  const plan = await createPlan(h.store, h.clock, { name: 'Day', durationSeconds: 86_400, quotaBytes: null });
  const { user } = await h.accounts.flows.register(
    { email: 'guest-at-desk@example.test', password: 'correct horse battery staple 9' },
    { ip: null },
  );
  const admin = { authorization: `Bearer ${await h.tokenFor('admin')}` };
  const operator = { authorization: `Bearer ${await h.tokenFor('operator')}` };
  const guest = { authorization: `Bearer ${await h.tokenFor('guest')}` };
  return { plan, userId: user.id, admin, operator, guest };
}

test('an admin grants a plan: an active staff-grant subscription that staff then find by owner', async (t) => {
  const h = await startGuestPortal(t, { enforcer: recordingEnforcer() });
  const { plan, userId, admin, operator } = await setUp(h);

  const granted = await h.app.inject({
    method: 'POST',
    url: '/api/v1/subscriptions',
    headers: admin,
    payload: { userId, planId: plan.id },
  });
  assert.equal(granted.statusCode, 201, granted.body);
  const subscription = granted.json();
  assert.equal(subscription.status, 'active');
  assert.equal(subscription.source, 'staff-grant');
  assert.equal(subscription.userId, userId);
  assert.equal(subscription.endsAt, h.clock.now() + 86_400_000);
  assert.equal(typeof subscription.sourceRef, 'string', 'records which staff member granted it');
  assert.equal(h.store.db.subscriptions[subscription.id]?.source, 'staff-grant');

  const listed = await h.app.inject({
    method: 'GET',
    url: `/api/v1/subscriptions?owner=user:${userId}`,
    headers: operator,
  });
  assert.equal(listed.statusCode, 200, listed.body);
  const [first] = listed.json().subscriptions;
  assert.equal(first.subscription.id, subscription.id);
  assert.equal(first.planName, 'Day');
  assert.equal(first.usable, true);
  assert.equal(first.secondsLeft, 86_400);
  assert.equal(first.bytesLeft, null);

  const unknownPlan = await h.app.inject({
    method: 'POST',
    url: '/api/v1/subscriptions',
    headers: admin,
    payload: { userId, planId: 'no-such-plan' },
  });
  assert.equal(unknownPlan.statusCode, 404);
});

test('an admin extends a subscription: endsAt moves and live sessions get new limits once', async (t) => {
  const enforcer = recordingEnforcer();
  const h = await startGuestPortal(t, { enforcer });
  const { plan, userId, admin } = await setUp(h);
  const granted = (
    await h.app.inject({
      method: 'POST',
      url: '/api/v1/subscriptions',
      headers: admin,
      payload: { userId, planId: plan.id },
    })
  ).json();

  const extended = await h.app.inject({
    method: 'POST',
    url: `/api/v1/subscriptions/${granted.id}/extend`,
    headers: admin,
    payload: { seconds: 3600 },
  });
  assert.equal(extended.statusCode, 200, extended.body);
  assert.equal(extended.json().subscription.endsAt, granted.endsAt + 3_600_000);
  assert.equal(h.store.db.subscriptions[granted.id]?.endsAt, granted.endsAt + 3_600_000);
  assert.deepEqual(extended.json().sessions, [{ sessionId: 'live-1', kind: 'coa', outcome: 'ack', attempts: 1 }]);
  assert.deepEqual(enforcer.refreshes, [granted.id]);

  const unknown = await h.app.inject({
    method: 'POST',
    url: '/api/v1/subscriptions/no-such/extend',
    headers: admin,
    payload: { seconds: 60 },
  });
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(enforcer.refreshes, [granted.id], 'nothing to refresh for an unknown subscription');
});

test('operators may look but not grant or extend; guests and the anonymous get nothing', async (t) => {
  const enforcer = recordingEnforcer();
  const h = await startGuestPortal(t, { enforcer });
  const { plan, userId, operator, guest } = await setUp(h);
  const grant = { method: 'POST', url: '/api/v1/subscriptions', payload: { userId, planId: plan.id } } as const;
  const extend = { method: 'POST', url: '/api/v1/subscriptions/x/extend', payload: { seconds: 60 } } as const;
  const list = { method: 'GET', url: `/api/v1/subscriptions?owner=user:${userId}` } as const;

  assert.equal((await h.app.inject({ ...grant, headers: operator })).statusCode, 403);
  assert.equal((await h.app.inject({ ...extend, headers: operator })).statusCode, 403);
  for (const request of [grant, extend, list]) {
    assert.equal((await h.app.inject({ ...request, headers: guest })).statusCode, 403, `${request.url} as guest`);
    assert.equal((await h.app.inject(request)).statusCode, 401, `${request.url} anonymously`);
  }
  assert.equal(Object.keys(h.store.db.subscriptions).length, 0);
  assert.deepEqual(enforcer.refreshes, []);
});

test('unknown fields, bad owners and out-of-range seconds are refused with 400', async (t) => {
  const enforcer = recordingEnforcer();
  const h = await startGuestPortal(t, { enforcer });
  const { plan, userId, admin } = await setUp(h);
  const cases = [
    { url: '/api/v1/subscriptions', payload: { userId, planId: plan.id, source: 'payment' } },
    { url: '/api/v1/subscriptions', payload: { userId } },
    { url: '/api/v1/subscriptions/x/extend', payload: { seconds: 60, status: 'active' } },
    { url: '/api/v1/subscriptions/x/extend', payload: { seconds: 0 } },
    { url: '/api/v1/subscriptions/x/extend', payload: { seconds: 1.5 } },
    { url: '/api/v1/subscriptions/x/extend', payload: { seconds: 10 * 366 * 86_400 } },
  ];
  for (const { url, payload } of cases) {
    const res = await h.app.inject({ method: 'POST', url, headers: admin, payload });
    assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(payload)}: ${res.body}`);
    assert.equal(res.json().error.code, 'TP_ERR_VALIDATION');
  }
  for (const query of ['owner=someone', 'owner=user:1&extra=1', '']) {
    const res = await h.app.inject({ method: 'GET', url: `/api/v1/subscriptions?${query}`, headers: admin });
    assert.equal(res.statusCode, 400, `?${query}`);
  }
  assert.equal(Object.keys(h.store.db.subscriptions).length, 0);
  assert.deepEqual(enforcer.refreshes, []);
});
