import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlan } from '../../appliance/plans/plans.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

test('the front desk (operator) creates, lists and prints a batch; only an admin revokes', async (t) => {
  const h = await startGuestPortal(t);
  const plan = await createPlan(h.store, h.clock, {
    name: 'Day pass <b>',
    durationSeconds: 86_400,
    quotaBytes: 5 * 1024 ** 3,
  });
  await h.store.update((db) => {
    db.settings.venueName = 'Café <script>alert(1)</script>';
  });
  const operator = { authorization: `Bearer ${await h.tokenFor('operator')}` };
  const admin = { authorization: `Bearer ${await h.tokenFor('admin')}` };

  const created = await h.app.inject({
    method: 'POST',
    url: '/api/v1/voucher-batches',
    headers: operator,
    payload: { planId: plan.id, count: 12, prefix: 'desk', note: 'front desk' },
  });
  assert.equal(created.statusCode, 201, created.body);
  const { batch, codes } = created.json();
  assert.equal(codes.length, 12);
  assert.equal(batch.prefix, 'DESK');
  assert.equal(batch.planName, 'Day pass <b>');

  const list = await h.app.inject({ method: 'GET', url: '/api/v1/voucher-batches', headers: operator });
  assert.equal(list.json().batches[0].id, batch.id);
  const one = await h.app.inject({ method: 'GET', url: `/api/v1/voucher-batches/${batch.id}`, headers: operator });
  assert.equal(one.json().vouchers.length, 12);
  assert.match(one.json().vouchers[0].printed, /^DESK-\w{5}-\w{5}$/);

  const sheet = await h.app.inject({
    method: 'GET',
    url: `/api/v1/voucher-batches/${batch.id}/sheet`,
    headers: operator,
  });
  assert.equal(sheet.statusCode, 200);
  assert.match(sheet.headers['content-type'] as string, /text\/html/);
  assert.equal((sheet.body.match(/class="card"/g) ?? []).length, 12, 'one card per code');
  assert.match(sheet.body, /@media print/);
  assert.match(sheet.body, /Day pass &lt;b&gt;/);
  assert.ok(!sheet.body.includes('<script>alert'), 'venue text is escaped');
  assert.match(sheet.body, /1 day, 5\.0 GB/);

  const byOperator = await h.app.inject({
    method: 'POST',
    url: `/api/v1/voucher-batches/${batch.id}/revoke`,
    headers: operator,
  });
  assert.equal(byOperator.statusCode, 403);
  const oneCode = await h.app.inject({ method: 'POST', url: `/api/v1/vouchers/${codes[0]}/revoke`, headers: admin });
  assert.equal(oneCode.statusCode, 200);
  assert.equal(typeof oneCode.json().revokedAt, 'number');
  const whole = await h.app.inject({
    method: 'POST',
    url: `/api/v1/voucher-batches/${batch.id}/revoke`,
    headers: admin,
  });
  assert.equal(typeof whole.json().revokedAt, 'number');
  const after = await h.app.inject({
    method: 'GET',
    url: `/api/v1/voucher-batches/${batch.id}/sheet`,
    headers: operator,
  });
  assert.equal((after.body.match(/class="card"/g) ?? []).length, 0, 'revoked codes are not printed');

  const bad = await h.app.inject({
    method: 'POST',
    url: '/api/v1/voucher-batches',
    headers: operator,
    payload: { planId: plan.id, count: 100_000 },
  });
  assert.equal(bad.statusCode, 400);
  const guest = { authorization: `Bearer ${await h.tokenFor('guest')}` };
  const byGuest = await h.app.inject({
    method: 'POST',
    url: '/api/v1/voucher-batches',
    headers: guest,
    payload: { planId: plan.id, count: 1 },
  });
  assert.equal(byGuest.statusCode, 403);
});
