import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { createPlan } from '../plans/plans.js';
import { LowdbStore } from '../store/lowdb-store.js';
import {
  CODE_ALPHABET,
  CODE_RANDOM_LENGTH,
  createVoucherBatch,
  formatCode,
  redeemVoucher,
  revokeVoucher,
  revokeVoucherBatch,
} from './index.js';

async function fixture(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'tp-vouchers-'));
  const store = await LowdbStore.open({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const clock = new ManualClock();
  const plan = await createPlan(store, clock, { name: 'Hour', durationSeconds: 3600, maxDevices: 2 });
  return { store, clock, plan };
}

const MAC_A = 'AA-BB-CC-00-00-01';
const MAC_B = 'aa:bb:cc:00:00:02';

test('codes use only the look-alike-free alphabet, carry the prefix and are long enough to make guessing hopeless', async (t) => {
  const { store, clock, plan } = await fixture(t);
  const { codes, batch } = await createVoucherBatch(store, clock, {
    planId: plan.id,
    count: 200,
    prefix: 'cafe',
    createdBy: 'staff',
  });
  assert.equal(codes.length, 200);
  assert.equal(new Set(codes).size, 200);
  assert.equal(batch.prefix, 'CAFE');
  for (const code of codes) {
    assert.ok(code.startsWith('CAFE'));
    const random = code.slice(4);
    assert.equal(random.length, CODE_RANDOM_LENGTH);
    for (const char of random) assert.ok(CODE_ALPHABET.includes(char), `${char} in alphabet`);
  }
  for (const lookAlike of ['0', 'O', '1', 'I', 'L', '5', 'S', '8', 'B', '2', 'Z'])
    assert.ok(!CODE_ALPHABET.includes(lookAlike));
  assert.ok(Math.log2(CODE_ALPHABET.length ** CODE_RANDOM_LENGTH) > 40, 'at least 40 bits of entropy');
  assert.match(formatCode(codes[0]!, 'CAFE'), /^CAFE-[A-Z0-9]{5}-[A-Z0-9]{5}$/);
});

test('the first use starts the clock; the same device may log in again, a second device is refused a single-use code', async (t) => {
  const { store, clock, plan } = await fixture(t);
  const { codes } = await createVoucherBatch(store, clock, { planId: plan.id, count: 1, createdBy: 'staff' });
  const code = codes[0]!;
  clock.advance(10 * 86_400_000);
  const subscription = await redeemVoucher(store, clock, { code: formatCode(code, '').toLowerCase(), mac: MAC_A });
  assert.equal(subscription.startedAt, clock.now(), 'time starts at first use, not at printing');
  assert.equal(subscription.endsAt, clock.now() + 3600_000);
  assert.equal(subscription.source, 'voucher');
  clock.advance(60_000);
  const again = await redeemVoucher(store, clock, { code, mac: 'aabb.cc00.0001' });
  assert.equal(again.id, subscription.id, 'the same device gets the same subscription back');
  assert.equal(store.db.vouchers[code]!.uses, 1);
  await assert.rejects(redeemVoucher(store, clock, { code, mac: MAC_B }), (err) =>
    isTurnpikeError(err, 'TP_ERR_VOUCHER_USED'),
  );
});

test('a device that comes back with a new random MAC is recognised by its device cookie and does not spend a use', async (t) => {
  const { store, clock, plan } = await fixture(t);
  const { codes } = await createVoucherBatch(store, clock, { planId: plan.id, count: 1, createdBy: 'staff' });
  const code = codes[0]!;
  await redeemVoucher(store, clock, { code, mac: MAC_A });
  const device = Object.values(store.db.devices).find((d) => d.ownerKey === `voucher:${code}`)!;
  await redeemVoucher(store, clock, { code, mac: MAC_B, deviceId: device.id });
  const devices = Object.values(store.db.devices).filter((d) => d.ownerKey === `voucher:${code}`);
  assert.equal(devices.length, 1, 'the binding is replaced, not added');
  assert.equal(devices[0]!.mac, MAC_B);
});

test('multi-use codes share one subscription and stop at maxUses', async (t) => {
  const { store, clock, plan } = await fixture(t);
  const { codes } = await createVoucherBatch(store, clock, {
    planId: plan.id,
    count: 1,
    multiUse: true,
    maxUses: 2,
    createdBy: 'staff',
  });
  const code = codes[0]!;
  const first = await redeemVoucher(store, clock, { code, mac: MAC_A });
  const second = await redeemVoucher(store, clock, { code, mac: MAC_B });
  assert.equal(second.id, first.id);
  await assert.rejects(redeemVoucher(store, clock, { code, mac: 'aa:bb:cc:00:00:03' }), (err) =>
    isTurnpikeError(err, 'TP_ERR_VOUCHER_USED'),
  );
});

test('unknown, out-of-window and revoked codes are invalid; revoking a batch also ends time already started', async (t) => {
  const { store, clock, plan } = await fixture(t);
  await assert.rejects(redeemVoucher(store, clock, { code: 'NOPE123456', mac: null }), (err) =>
    isTurnpikeError(err, 'TP_ERR_VOUCHER_INVALID'),
  );
  const later = await createVoucherBatch(store, clock, {
    planId: plan.id,
    count: 1,
    validFrom: clock.now() + 86_400_000,
    validUntil: clock.now() + 2 * 86_400_000,
    createdBy: 'staff',
  });
  await assert.rejects(redeemVoucher(store, clock, { code: later.codes[0]!, mac: null }), (err) =>
    isTurnpikeError(err, 'TP_ERR_VOUCHER_INVALID'),
  );
  const { codes, batch } = await createVoucherBatch(store, clock, { planId: plan.id, count: 2, createdBy: 'staff' });
  await revokeVoucher(store, clock, codes[0]!);
  await assert.rejects(redeemVoucher(store, clock, { code: codes[0]!, mac: MAC_A }), (err) =>
    isTurnpikeError(err, 'TP_ERR_VOUCHER_INVALID'),
  );
  const running = await redeemVoucher(store, clock, { code: codes[1]!, mac: MAC_A });
  await revokeVoucherBatch(store, clock, batch.id);
  assert.equal(store.db.subscriptions[running.id]!.status, 'cancelled');
  await assert.rejects(redeemVoucher(store, clock, { code: codes[1]!, mac: MAC_A }), (err) =>
    isTurnpikeError(err, 'TP_ERR_VOUCHER_INVALID'),
  );
});

test('batch input is validated and names the bad field', async (t) => {
  const { store, clock, plan } = await fixture(t);
  await assert.rejects(createVoucherBatch(store, clock, { planId: plan.id, count: 0, createdBy: 's' }), /count/);
  await assert.rejects(
    createVoucherBatch(store, clock, { planId: plan.id, count: 1, prefix: 'no-dash!', createdBy: 's' }),
    /prefix/,
  );
  await assert.rejects(createVoucherBatch(store, clock, { planId: 'nope', count: 1, createdBy: 's' }), (err) =>
    isTurnpikeError(err, 'TP_ERR_NOT_FOUND'),
  );
  assert.equal(Object.keys(store.db.vouchers).length, 0, 'a refused batch leaves nothing behind');
});
