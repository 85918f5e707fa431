import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { tempStore } from '../testing/temp-store.js';
import { seedDemoCatalogue } from './demo-catalogue.js';
import { archivePlan, createPlan, findPlan, updatePlan, visiblePlans } from './plans.js';

test('the demo catalogue seeds a free tier, an hour, a day and a monthly plan, once', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const seeded = await seedDemoCatalogue(store, clock);
  assert.equal(seeded.length, 4);
  assert.ok(seeded.some((plan) => plan.freeTier?.periodSeconds === 86_400 && plan.durationSeconds === 1800));
  assert.ok(seeded.some((plan) => plan.recurring && plan.priceMinor > 0));
  assert.deepEqual(await seedDemoCatalogue(store, clock), [], 'a second call leaves an existing catalogue alone');
});

test('plans are validated field by field, names are unique, and archiving hides without deleting', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const invalid = (field: string) => (err: unknown) =>
    isTurnpikeError(err, 'TP_ERR_VALIDATION') && err.details?.field === field;
  await assert.rejects(createPlan(store, clock, { name: '' }), invalid('name'));
  await assert.rejects(
    createPlan(store, clock, { name: 'X', durationSeconds: null, quotaBytes: null }),
    invalid('durationSeconds'),
  );
  await assert.rejects(createPlan(store, clock, { name: 'X', services: ['telnet' as 'ssh'] }), invalid('services'));
  await assert.rejects(
    createPlan(store, clock, { name: 'X', priceMinor: 100, freeTier: { periodSeconds: 3600 } }),
    invalid('freeTier'),
  );
  const plan = await createPlan(store, clock, { name: 'Hour', priceMinor: 300 });
  await assert.rejects(createPlan(store, clock, { name: 'hour' }), (err) => isTurnpikeError(err, 'TP_ERR_CONFLICT'));
  const changed = await updatePlan(store, clock, plan.id, { priceMinor: 250 });
  assert.equal(changed.priceMinor, 250);
  assert.equal(findPlan(store.db, 'HOUR')?.id, plan.id);
  await archivePlan(store, clock, plan.id);
  assert.equal(visiblePlans(store.db).length, 0);
  assert.ok(store.db.plans[plan.id], 'kept for the subscriptions that point at it');
});
