import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../shared/clock.js';
import { TurnpikeError, isTurnpikeError, type ErrorCode } from '../../shared/errors.js';
import { createPlan } from '../plans/plans.js';
import { tempStore } from '../testing/temp-store.js';
import { createVoucherBatch } from '../vouchers/batches.js';
import { StoreAccessPolicy } from './access-policy.js';

async function voucherLoginFailingWith(t: Parameters<typeof tempStore>[0], code: ErrorCode) {
  const store = await tempStore(t);
  const plan = await createPlan(store, systemClock, { name: 'Hour', durationSeconds: 3600 });
  const { codes } = await createVoucherBatch(store, systemClock, { planId: plan.id, count: 1, createdBy: 'test' });
  const policy = new StoreAccessPolicy({
    store,
    clock: systemClock,
    verifyPassword: async () => false,
    passwordCacheSeconds: 60,
    redeemVoucher: async () => {
      throw new TurnpikeError(code);
    },
  });
  const voucher = codes[0]!;
  return Promise.resolve(
    policy.authorize({
      userName: voucher,
      proof: { kind: 'pap', password: Buffer.from(voucher) },
      mac: '02:00:00:00:00:01',
      ip: null,
    }),
  );
}

test('a voucher login the store cannot write right now fails, so that the NAS gets no answer and retries', async (t) => {
  await assert.rejects(voucherLoginFailingWith(t, 'TP_ERR_STORE_UNAVAILABLE'), (err: unknown) =>
    isTurnpikeError(err, 'TP_ERR_STORE_UNAVAILABLE'),
  );
  await assert.rejects(voucherLoginFailingWith(t, 'TP_ERR_STORE_CONFLICT'), (err: unknown) =>
    isTurnpikeError(err, 'TP_ERR_STORE_CONFLICT'),
  );
});

test('a voucher that is spent is rejected with its reason', async (t) => {
  assert.deepEqual(await voucherLoginFailingWith(t, 'TP_ERR_VOUCHER_USED'), {
    ok: false,
    method: 'voucher',
    code: 'TP_ERR_VOUCHER_USED',
  });
});
