import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnpikeError, isTurnpikeError, type ErrorCode } from '../../../shared/errors.js';
import { loginScenario, papLogin, PHONE_MAC, LAPTOP_MAC } from '../../testing/login-scenario.js';
import { voucher } from './voucher.js';

const reason = (decision: { ok: boolean; code?: string }): string => (decision.ok ? 'accepted' : decision.code!);

describe('voucher code', () => {
  it('claims a code the store holds, typed in any case or grouping', async (t) => {
    const { context } = await loginScenario(t);
    assert.equal(voucher.claims(papLogin('TPVOUCHER1', ''), context), true);
    assert.equal(voucher.claims(papLogin('tpvou-cher1', ''), context), true);
    assert.equal(voucher.claims(papLogin('TPVOUCHER2', ''), context), false);
  });

  it('redeems at the first login, then lets the same device back in without a write', async (t) => {
    const { context, store } = await loginScenario(t);
    const first = await voucher.authenticate(papLogin('tpvoucher1', 'tpvoucher1', PHONE_MAC), context);
    assert.ok(first.ok);
    assert.equal(store.db.vouchers.TPVOUCHER1!.uses, 1);
    const again = voucher.authenticate(papLogin('TPVOUCHER1', 'TPVOUCHER1', PHONE_MAC), context);
    assert.ok(!(again instanceof Promise), 'decided synchronously: nothing written');
    assert.equal(reason(again), 'accepted');
    assert.equal(store.db.vouchers.TPVOUCHER1!.uses, 1);
  });

  it('refuses a single-use code to a second device, saying it is spent', async (t) => {
    const { context } = await loginScenario(t);
    await voucher.authenticate(papLogin('TPVOUCHER1', 'TPVOUCHER1', PHONE_MAC), context);
    const other = await voucher.authenticate(papLogin('TPVOUCHER1', 'TPVOUCHER1', LAPTOP_MAC), context);
    assert.equal(reason(other), 'TP_ERR_VOUCHER_USED');
  });

  it('rejects a password that is not the code', async (t) => {
    const { context, store } = await loginScenario(t);
    const decision = await voucher.authenticate(papLogin('TPVOUCHER1', 'guess', PHONE_MAC), context);
    assert.equal(reason(decision), 'TP_ERR_INVALID_CREDENTIALS');
    assert.equal(store.db.vouchers.TPVOUCHER1!.uses, 0, 'nothing redeemed');
  });

  const failingWith = async (t: Parameters<typeof loginScenario>[0], code: ErrorCode) => {
    const { context } = await loginScenario(t, {
      redeemVoucher: async () => {
        throw new TurnpikeError(code);
      },
    });
    return Promise.resolve(voucher.authenticate(papLogin('TPVOUCHER1', 'TPVOUCHER1', PHONE_MAC), context));
  };

  it('fails, so that the NAS gets no answer and retries, when the store cannot write right now', async (t) => {
    for (const code of ['TP_ERR_STORE_UNAVAILABLE', 'TP_ERR_STORE_CONFLICT'] as const)
      await assert.rejects(failingWith(t, code), (err: unknown) => isTurnpikeError(err, code));
  });
});
