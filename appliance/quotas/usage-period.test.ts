import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { createPlan } from '../plans/plans.js';
import { recordAccounting } from '../sessions/accounting.js';
import { grantSubscription } from '../subscriptions/subscriptions.js';
import { tempStore } from '../testing/temp-store.js';
import { accessSummaryOf } from './access-summary.js';
import { resetDueQuotas } from './quota-resets.js';
import { usagePeriodAt, usagePeriodProblem } from './usage-period.js';
import { gatewayVenue } from '../testing/gateway-guests.js';
import { nasClientRecord } from '../testing/nas-client-record.js';

const at = (iso: string): number => Date.parse(iso);
const period = (
  every: 'day' | 'week' | 'month',
  anchor: 'start' | `${number}:${number}`,
  startedAt: string,
  now: string,
  zone = 'UTC',
): { startedAt: string; resetsAt: string } => {
  const found = usagePeriodAt({ every, anchor }, at(startedAt), at(now), zone);
  return { startedAt: new Date(found.startedAt).toISOString(), resetsAt: new Date(found.resetsAt).toISOString() };
};

test("periods anchored at the subscription's start step by the venue's calendar, month ends included", () => {
  assert.deepEqual(period('day', 'start', '2026-03-01T10:30:00Z', '2026-03-03T09:00:00Z'), {
    startedAt: '2026-03-02T10:30:00.000Z',
    resetsAt: '2026-03-03T10:30:00.000Z',
  });
  assert.deepEqual(period('month', 'start', '2026-01-31T12:00:00Z', '2026-03-15T00:00:00Z'), {
    startedAt: '2026-02-28T12:00:00.000Z',
    resetsAt: '2026-03-31T12:00:00.000Z',
  });
  assert.deepEqual(period('week', 'start', '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z'), {
    startedAt: '2026-03-01T00:00:00.000Z',
    resetsAt: '2026-03-08T00:00:00.000Z',
  });
});

test('periods anchored at a local time of day follow the time zone across a DST change', () => {
  // Berlin moves from UTC+1 to UTC+2 on 29 March 2026: 06:00 local is 05:00Z, then 04:00Z.
  assert.deepEqual(period('day', '06:00', '2026-01-01T00:00:00Z', '2026-03-29T04:30:00Z', 'Europe/Berlin'), {
    startedAt: '2026-03-29T04:00:00.000Z',
    resetsAt: '2026-03-30T04:00:00.000Z',
  });
  assert.deepEqual(period('day', '06:00', '2026-01-01T00:00:00Z', '2026-03-29T03:59:00Z', 'Europe/Berlin'), {
    startedAt: '2026-03-28T05:00:00.000Z',
    resetsAt: '2026-03-29T04:00:00.000Z',
  });
  assert.deepEqual(period('week', '00:00', '2026-01-01T00:00:00Z', '2026-12-03T12:00:00Z'), {
    startedAt: '2026-11-30T00:00:00.000Z',
    resetsAt: '2026-12-07T00:00:00.000Z',
  });
  assert.deepEqual(period('month', '00:00', '2026-01-01T00:00:00Z', '2026-12-03T12:00:00Z'), {
    startedAt: '2026-12-01T00:00:00.000Z',
    resetsAt: '2027-01-01T00:00:00.000Z',
  });
});

test('a bad usage period names what is expected', () => {
  assert.equal(usagePeriodProblem(null), null);
  assert.equal(usagePeriodProblem({ every: 'day', anchor: '06:30' }), null);
  assert.match(usagePeriodProblem({ every: 'year', anchor: 'start' })!, /every: day, week or month/);
  assert.match(usagePeriodProblem({ every: 'day', anchor: '25:00' })!, /HH:MM/);
});

test('a daily quota comes back at the period: usage resets, the throttled guest gets the full rate back', async (t) => {
  const { store, clock, accessPort, enforcer, plan, pay, connect } = await gatewayVenue(t, {
    now: at('2026-12-03T10:00:00Z'),
  });
  const subscription = await pay(
    await plan({
      name: 'Daily gigabyte',
      durationSeconds: 30 * 86_400,
      quotaBytes: 1000,
      bandwidthDownKbps: 8000,
      usagePeriod: { every: 'day', anchor: '00:00' },
      onQuotaExhausted: { action: 'throttle', upKbps: 128, downKbps: 256 },
    }),
  );
  await store.update((db) => {
    db.subscriptions[subscription.id]!.bytesUsed = 1000;
  });
  await connect();
  assert.equal(accessPort.allowed()[0]?.downKbps, 256, 'spent: throttled');
  assert.deepEqual(accessSummaryOf(store, 'user:u1', clock.now()), {
    planName: 'Daily gigabyte',
    secondsLeft: 30 * 86_400,
    bytesLeft: 0,
    quotaResetsAt: at('2026-12-04T00:00:00Z'),
  });

  assert.deepEqual(await resetDueQuotas(store, clock), [], 'nothing is due within the day');
  clock.advance(14 * 3600_000 + 1000);
  const reset = await resetDueQuotas(store, clock);
  assert.deepEqual(reset, [subscription.id]);
  assert.equal(store.db.subscriptions[subscription.id]!.bytesUsed, 0);
  await enforcer.refreshLimits(subscription.id);
  assert.equal(accessPort.allowed()[0]?.downKbps, 8000, 'the full rate is back without a new login');
});

test('bytes reported after the period ended count against the new period, even before the reset job runs', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock(at('2026-12-03T10:00:00Z'));
  const plan = await createPlan(store, clock, {
    name: 'Daily',
    durationSeconds: 30 * 86_400,
    quotaBytes: 10_000,
    usagePeriod: { every: 'day', anchor: 'start' },
  });
  const subscription = await grantSubscription(store, clock, {
    userId: 'u1',
    voucherCode: null,
    plan,
    source: 'payment',
    sourceRef: null,
  });
  await store.update((db) => {
    db.nasClients.nas = nasClientRecord({ id: 'nas' });
  });
  const report = (status: 'start' | 'interim', octets: number) =>
    recordAccounting(store, clock, {
      nasId: 'nas',
      status,
      acctSessionId: 'a',
      subscriptionId: subscription.id,
      mac: '02:00:00:00:00:01',
      ip: null,
      inputOctets: octets,
      outputOctets: 0,
      sessionTime: null,
      terminateCause: null,
      interimIntervalSeconds: 300,
    });
  await report('start', 0);
  await report('interim', 9000);
  assert.equal(store.db.subscriptions[subscription.id]!.bytesUsed, 9000);
  clock.advance(86_400_000);
  await report('interim', 9500);
  assert.equal(store.db.subscriptions[subscription.id]!.bytesUsed, 500, "only the new day's bytes");
});
