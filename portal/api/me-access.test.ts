import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlan } from '../../appliance/plans/plans.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { bearer, signedInAs, startAuthHarness } from '../auth/auth-test-harness.js';

test('/api/v1/me shows the plan in use: time and data left, and when the data comes back', async (t) => {
  const h = await startAuthHarness();
  t.after(() => h.close());
  const guest = await signedInAs(h, 'guest');
  const none = await h.app.inject({ url: '/api/v1/me', headers: bearer(guest.tokens) });
  assert.equal(none.json().access, null, 'no plan yet');

  const plan = await createPlan(h.store, h.clock, {
    name: 'Weekly 5 GB',
    durationSeconds: 30 * 86_400,
    quotaBytes: 5_000_000_000,
    usagePeriod: { every: 'week', anchor: 'start' },
  });
  await grantSubscription(h.store, h.clock, {
    userId: guest.userId,
    voucherCode: null,
    plan,
    source: 'payment',
    sourceRef: null,
  });
  const me = await h.app.inject({ url: '/api/v1/me', headers: bearer(guest.tokens) });
  assert.equal(me.statusCode, 200, me.body);
  assert.deepEqual(me.json().access, {
    planName: 'Weekly 5 GB',
    secondsLeft: 30 * 86_400,
    bytesLeft: 5_000_000_000,
    quotaResetsAt: h.clock.now() + 7 * 86_400_000,
  });
});
