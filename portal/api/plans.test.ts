import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

test('admins manage plans through /api/v1/plans; operators may read; guests and strangers may not', async (t) => {
  const h = await startGuestPortal(t);
  const admin = { authorization: `Bearer ${await h.tokenFor('admin')}` };
  const operator = { authorization: `Bearer ${await h.tokenFor('operator')}` };
  const guest = { authorization: `Bearer ${await h.tokenFor('guest')}` };

  const created = await h.app.inject({
    method: 'POST',
    url: '/api/v1/plans',
    headers: admin,
    payload: {
      name: 'Week',
      priceMinor: 1500,
      currency: 'EUR',
      durationSeconds: 7 * 86_400,
      quotaBytes: 10_000_000_000,
      maxDevices: 3,
      services: ['internet', 'ssh'],
      bandwidthDownKbps: 20_000,
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const plan = created.json();
  assert.equal(plan.name, 'Week');
  assert.deepEqual(plan.services, ['internet', 'ssh']);

  const list = await h.app.inject({ method: 'GET', url: '/api/v1/plans', headers: operator });
  assert.equal(list.statusCode, 200);
  assert.deepEqual(
    list.json().plans.map((p: { id: string }) => p.id),
    [plan.id],
  );

  const patched = await h.app.inject({
    method: 'PATCH',
    url: `/api/v1/plans/${plan.id}`,
    headers: admin,
    payload: { visible: false },
  });
  assert.equal(patched.json().visible, false);

  const byOperator = await h.app.inject({
    method: 'POST',
    url: '/api/v1/plans',
    headers: operator,
    payload: { name: 'Sneaky' },
  });
  assert.equal(byOperator.statusCode, 403);
  assert.equal(byOperator.json().error.code, 'TP_ERR_FORBIDDEN');
  const byGuest = await h.app.inject({ method: 'GET', url: '/api/v1/plans', headers: guest });
  assert.equal(byGuest.statusCode, 403);
  const anonymous = await h.app.inject({ method: 'GET', url: '/api/v1/plans' });
  assert.equal(anonymous.statusCode, 401);

  const bad = await h.app.inject({
    method: 'POST',
    url: '/api/v1/plans',
    headers: admin,
    payload: { name: 'Free', priceMinor: 100, freeTier: { periodSeconds: 86400 } },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'TP_ERR_VALIDATION');
  const duplicate = await h.app.inject({
    method: 'POST',
    url: '/api/v1/plans',
    headers: admin,
    payload: { name: 'week' },
  });
  assert.equal(duplicate.statusCode, 409);
  const unknownField = await h.app.inject({
    method: 'POST',
    url: '/api/v1/plans',
    headers: admin,
    payload: { name: 'X', colour: 'red' },
  });
  assert.equal(unknownField.statusCode, 400);

  const archived = await h.app.inject({ method: 'DELETE', url: `/api/v1/plans/${plan.id}`, headers: admin });
  assert.equal(archived.json().archived, true);
  const gone = await h.app.inject({ method: 'GET', url: `/api/v1/plans/${plan.id}`, headers: admin });
  assert.equal(gone.statusCode, 404);
});
