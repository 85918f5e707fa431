import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import type { Db } from '../domain/model.js';
import { refundIn, settleOneOffIn } from '../payments/entitlement-effects.js';
import type { Payment } from '../payments/model.js';
import { recordAccounting, type AccountingEvent } from '../sessions/accounting.js';
import { planRecord } from '../testing/plan-record.js';
import { tempStore } from '../testing/temp-store.js';
import { createVoucherBatch } from '../vouchers/batches.js';
import { redeemVoucher } from '../vouchers/redeem.js';
import { LowdbStore } from '../store/lowdb-store.js';
import { reportsOf } from '../console/report-figures.js';
import { computeReports, rebuildReports } from './rebuild.js';

// 23:50 in Berlin on 14 March 2026: ten minutes later it is the 15th there, still the 14th in UTC.
const START = Date.UTC(2026, 2, 14, 22, 50);

function event(overrides: Partial<AccountingEvent>): AccountingEvent {
  return {
    nasId: 'nas-lobby',
    status: 'interim',
    acctSessionId: 'a1',
    subscriptionId: null,
    mac: 'aa:bb:cc:dd:ee:01',
    ip: '10.0.0.5',
    inputOctets: 0,
    outputOctets: 0,
    sessionTime: 0,
    terminateCause: null,
    interimIntervalSeconds: 60,
    ...overrides,
  };
}

async function venue(store: LowdbStore, clock: ManualClock) {
  await store.update((db) => {
    db.settings.timeZone = 'Europe/Berlin';
    db.plans.day = planRecord({ id: 'day', priceMinor: 500, currency: 'EUR', durationSeconds: 86_400 });
  });
  const { codes, batch } = await createVoucherBatch(store, clock, { planId: 'day', count: 2, createdBy: 'test' });
  return { codes, batch };
}

function payment(id: string): Payment {
  return {
    id,
    userId: 'u1',
    planId: 'day',
    kind: 'one-off',
    amountMinor: 500,
    currency: 'EUR',
    status: 'pending',
    stripe: { customerId: null, checkoutSessionId: null, paymentIntentId: null, invoiceId: null, subscriptionId: null },
    subscriptionId: null,
    grantedSeconds: 0,
    invoiceNumber: null,
    failureMessage: null,
    createdAt: 0,
    updatedAt: 0,
  };
}

function rollupsOf(db: Readonly<Db>): unknown {
  return JSON.parse(JSON.stringify(db.reports));
}

test('usage, revenue and redemptions are counted by the writes that make them, by venue day', async (t) => {
  const store = await tempStore(t, 'tp-h11r-');
  const clock = new ManualClock(START);
  const { codes, batch } = await venue(store, clock);
  const sub = await redeemVoucher(store, clock, { code: codes[0]!, mac: 'aa:bb:cc:dd:ee:01' });
  await recordAccounting(store, clock, event({ status: 'start', subscriptionId: sub.id }));
  clock.advance(5 * 60_000);
  await recordAccounting(store, clock, event({ inputOctets: 1_000, outputOctets: 4_000 }));
  clock.advance(10 * 60_000); // past midnight in Berlin
  await recordAccounting(store, clock, event({ inputOctets: 1_500, outputOctets: 9_000 }));
  await recordAccounting(store, clock, event({ inputOctets: 1_500, outputOctets: 9_000 }));
  await recordAccounting(store, clock, event({ status: 'stop', inputOctets: 2_000, outputOctets: 9_500 }));

  const usage = store.db.reports.usage;
  assert.deepEqual(usage['2026-03-14T23|hour|'], {
    period: '2026-03-14T23',
    dim: 'hour',
    key: '',
    inOctets: 1_000,
    outOctets: 4_000,
    sessions: 1,
  });
  assert.deepEqual(usage['2026-03-15T00|hour|'], {
    period: '2026-03-15T00',
    dim: 'hour',
    key: '',
    inOctets: 1_000,
    outOctets: 5_500,
    sessions: 0,
  });
  assert.deepEqual(usage['2026-03-15|split|day|nas-lobby'], {
    period: '2026-03-15',
    dim: 'split',
    key: 'day|nas-lobby',
    planId: 'day',
    nasId: 'nas-lobby',
    inOctets: 1_000,
    outOctets: 5_500,
    sessions: 0,
  });
  assert.equal(usage['2026-03-14|split|day|nas-lobby']?.sessions, 1);
  assert.equal(Object.keys(usage).length, 4, 'an hour of the box, and a day of each plan on each NAS');
  const split = reportsOf(store.db, { from: '2026-03-15', to: '2026-03-15' });
  assert.deepEqual(split.byPlan, [{ id: 'day', name: 'day', sessions: 0, inOctets: 1_000, outOctets: 5_500 }]);
  assert.deepEqual(split.byNas, [
    { id: 'nas-lobby', name: 'nas-lobby', sessions: 0, inOctets: 1_000, outOctets: 5_500 },
  ]);
  const days = reportsOf(store.db, { from: '2026-03-14', to: '2026-03-15' }).days;
  assert.deepEqual(
    days.map((day) => [day.period, day.sessions, day.inOctets, day.outOctets]),
    [
      ['2026-03-14', 1, 1_000, 4_000],
      ['2026-03-15', 0, 1_000, 5_500],
    ],
    'a day is the sum of its hours',
  );
  assert.deepEqual(store.db.reports.topGuests['2026-03-15']?.guests, [
    { ownerKey: `voucher:${codes[0]}`, octets: 6_500 },
  ]);
  assert.deepEqual(Object.values(store.db.reports.vouchers), [
    { day: '2026-03-14', batchId: batch.id, planId: 'day', redemptions: 1 },
  ]);
  const lines = await store.history<{ usage?: unknown }>('accounting').readAll();
  assert.equal(lines.length, 5);
  assert.equal(lines[3]!.usage, null, 'an update without traffic adds nothing and writes no rollup');

  // A paid payment issues an invoice; a refund is set against the month it was issued in.
  await store.update((db) => {
    db.payments.payments.p1 = payment('p1');
    settleOneOffIn(db, clock.now(), db.payments.payments.p1, { paymentIntentId: 'pi', customerId: 'cu' });
  });
  clock.advance(40 * 86_400_000);
  await store.update((db) => refundIn(db, clock.now(), db.payments.payments.p1!));
  assert.deepEqual(store.db.reports.revenue['2026-03|day|EUR'], {
    month: '2026-03',
    planId: 'day',
    currency: 'EUR',
    invoices: 1,
    grossMinor: 500,
    refundedMinor: 500,
  });
});

test('turnpike reports rebuild recomputes from the histories the same figures the writes kept', async (t) => {
  const store = await tempStore(t, 'tp-h11r-');
  const clock = new ManualClock(START);
  const { codes } = await venue(store, clock);
  const subs = [
    await redeemVoucher(store, clock, { code: codes[0]!, mac: 'aa:bb:cc:dd:ee:01' }),
    await redeemVoucher(store, clock, { code: codes[1]!, mac: 'aa:bb:cc:dd:ee:02' }),
  ];
  // Two guests on two NAS over two days; one NAS restarts its counters mid-session.
  for (let step = 0; step < 40; step += 1) {
    clock.advance(7 * 60_000);
    for (const [index, sub] of subs.entries()) {
      const restarted = index === 1 && step >= 20;
      const octets = (restarted ? step - 20 : step) * 1_000 * (index + 1);
      await recordAccounting(
        store,
        clock,
        event({
          nasId: `nas-${index}`,
          acctSessionId: `s${index}`,
          mac: `aa:bb:cc:dd:ee:0${index + 1}`,
          status: step === 0 ? 'start' : 'interim',
          subscriptionId: sub.id,
          inputOctets: octets,
          outputOctets: octets * 3,
        }),
      );
    }
  }
  await store.update((db) => {
    db.payments.payments.p1 = payment('p1');
    settleOneOffIn(db, clock.now(), db.payments.payments.p1, { paymentIntentId: 'pi', customerId: 'cu' });
  });
  const live = rollupsOf(store.db);
  const { reports } = await computeReports(store);
  assert.deepEqual(JSON.parse(JSON.stringify(reports)), live);

  // Rollups lost or wrong (an upgrade from before them, a hand edit) come back whole.
  const kept = Object.keys(store.db.reports.usage)[0]!;
  await store.update((db) => {
    for (const id of Object.keys(db.reports.usage)) if (id !== kept) delete db.reports.usage[id];
    db.reports.usage[kept] = { ...db.reports.usage[kept]!, inOctets: 1 };
    db.reports.topGuests = {};
    db.reports.usage['2026-03-15T05|hour|'] = {
      period: '2026-03-15T05',
      dim: 'hour',
      key: '',
      inOctets: 1,
      outOctets: 1,
      sessions: 1,
    };
  });
  const result = await rebuildReports(store);
  assert.equal(result.accountingLines, 80);
  assert.equal(result.redemptions, 2);
  assert.equal(result.invoices, 1);
  assert.ok(result.changedRows > 0);
  assert.deepEqual(rollupsOf(store.db), live);
  assert.equal((await rebuildReports(store)).changedRows, 0, 'a second rebuild changes nothing');
});

test('a rebuild keeps the rollups of days the rotated histories no longer hold', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-h11r-'));
  const store = await LowdbStore.open({ dir, history: { maxBytes: 4_000, keep: 1 } });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const clock = new ManualClock(START);
  const { codes } = await venue(store, clock);
  const sub = await redeemVoucher(store, clock, { code: codes[0]!, mac: 'aa:bb:cc:dd:ee:01' });
  for (let step = 0; step < 60; step += 1) {
    clock.advance(2 * 3_600_000);
    const status = step === 0 ? 'start' : 'interim';
    await recordAccounting(
      store,
      clock,
      event({ status, subscriptionId: sub.id, inputOctets: step, outputOctets: step }),
    );
  }
  const live = rollupsOf(store.db) as { usage: Record<string, unknown> };
  const result = await rebuildReports(store);
  assert.ok(result.accountingLines < 60, `rotation dropped the oldest lines (${result.accountingLines} left)`);
  assert.ok(result.usageFrom! > '2026-03-15', `the accounting history starts on ${result.usageFrom}`);
  const after = rollupsOf(store.db) as { usage: Record<string, unknown> };
  for (const [id, row] of Object.entries(live.usage)) {
    if (id.slice(0, 10) < result.usageFrom!) assert.deepEqual(after.usage[id], row, `${id} is kept`);
  }
});

test('accounting lines written before the rollups existed are counted from the sessions they report', async (t) => {
  const store = await tempStore(t, 'tp-h11r-');
  const clock = new ManualClock(START);
  const { codes } = await venue(store, clock);
  const sub = await redeemVoucher(store, clock, { code: codes[0]!, mac: 'aa:bb:cc:dd:ee:01' });
  const old = (at: number, status: AccountingEvent['status'], octets: number) => ({
    ...event({ status, subscriptionId: sub.id, inputOctets: octets, outputOctets: octets * 2 }),
    at,
    sessionId: 'nas-lobby/a1',
  });
  // As the accounting history of an earlier Turnpike has them: the report, with no usage fact.
  const history = store.history('accounting');
  await history.append(old(START - 3_600_000, 'start', 0));
  await history.append(old(START - 1_800_000, 'interim', 100));
  await history.append(old(START - 600_000, 'interim', 50)); // counters restarted: nothing added
  await history.append(old(START - 300_000, 'stop', 80));
  await rebuildReports(store);
  assert.deepEqual(
    reportsOf(store.db, { from: '2026-03-14', to: '2026-03-14' }).days.map((d) => [
      d.sessions,
      d.inOctets,
      d.outOctets,
    ]),
    [[1, 130, 260]],
  );
  assert.deepEqual(store.db.reports.topGuests['2026-03-14']?.guests, [
    { ownerKey: `voucher:${codes[0]}`, octets: 390 },
  ]);
});
