import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../shared/clock.js';
import { loadConfig } from '../../config/load-config.js';
import { silentLogger } from '../../../shared/logger.js';
import { recordAccounting } from '../../sessions/accounting.js';
import { planRecord } from '../../testing/plan-record.js';
import { tempStore } from '../../testing/temp-store.js';
import { createVoucherBatch } from '../../vouchers/batches.js';
import { redeemVoucher } from '../../vouchers/redeem.js';
import { findStoreCommand } from '../store-commands.js';

test('turnpike reports rebuild puts back lost rollups from the histories and says what it read', async (t) => {
  const { config } = loadConfig({ env: {}, overrides: {} });
  const store = await tempStore(t, 'tp-h11r-');
  const clock = new ManualClock();
  const context = { config, store, clock, logger: silentLogger, services: undefined as never };
  await store.update((db) => {
    db.plans.hour = planRecord({ id: 'hour' });
  });
  const { codes } = await createVoucherBatch(store, clock, { planId: 'hour', count: 1, createdBy: 'test' });
  const sub = await redeemVoucher(store, clock, { code: codes[0]!, mac: '02:00:00:00:00:01' });
  const base = {
    nasId: 'nas',
    acctSessionId: 'x',
    subscriptionId: sub.id,
    mac: '02:00:00:00:00:01',
    ip: null,
    sessionTime: 0,
    terminateCause: null,
    interimIntervalSeconds: 60,
  };
  await recordAccounting(store, clock, { ...base, status: 'start', inputOctets: 0, outputOctets: 0 });
  await recordAccounting(store, clock, { ...base, status: 'interim', inputOctets: 10, outputOctets: 20 });
  const live = JSON.stringify(store.db.reports);
  await store.update((db) => {
    db.reports.usage = {};
    db.reports.vouchers = {};
  });

  const found = findStoreCommand(['reports', 'rebuild'])!;
  assert.equal(found.command.mutates, true, 'a running appliance runs it on its own store');
  const out = await found.command.run(context, found.args);
  assert.deepEqual(out, [
    'read 2 accounting lines, 1 voucher redemptions, 0 invoices',
    'histories start: accounting 2026-01-01, audit 2026-01-01 (rollups of earlier days kept as stored)',
    '3 rollup rows written or removed',
  ]);
  assert.equal(JSON.stringify(store.db.reports), live);
  assert.deepEqual((await found.command.run(context, [])).at(-1), 'the rollups already matched the histories');
  await assert.rejects(found.command.run(context, ['extra']), /usage: turnpike reports rebuild/);
});
