import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOGIN_PASSWORD, loginScenario, papLogin, PHONE_MAC, type LoginScenario } from '../testing/login-scenario.js';
import { StoreAccessPolicy } from './access-policy.js';
import { LOGIN_MECHANISMS } from './login/login-mechanisms.js';

/** The policy over the scenario's store, as RADIUS runs it. */
const policyOf = ({ store, clock }: LoginScenario): StoreAccessPolicy =>
  new StoreAccessPolicy({ store, clock, verifyPassword: async () => false, passwordCacheSeconds: 60 });

const outcome = async (policy: StoreAccessPolicy, request: ReturnType<typeof papLogin>): Promise<string> => {
  const decision = await policy.authorize(request);
  return `${decision.method} ${decision.ok ? 'accepted' : decision.code}`;
};

/** A voucher whose code is also twelve hex digits, and a remembered device with that MAC. */
const HEX_CODE = 'ACE34F6797AC';
const HEX_MAC = 'ac:e3:4f:67:97:ac';

describe('the access policy asks the login mechanisms in order', () => {
  it('portal credential, voucher, MAC, account password', () => {
    assert.deepEqual(
      LOGIN_MECHANISMS.map((mechanism) => mechanism.name),
      ['portal-credential', 'voucher', 'mac', 'password'],
    );
  });

  it('each mechanism decides the user names it claims', async (t) => {
    const scenario = await loginScenario(t);
    const policy = new StoreAccessPolicy({
      store: scenario.store,
      clock: scenario.clock,
      verifyPassword: async (password) => password === LOGIN_PASSWORD,
      passwordCacheSeconds: 60,
    });
    assert.equal(await outcome(policy, papLogin('tp-once', 'wrong')), 'portal-credential TP_ERR_INVALID_CREDENTIALS');
    assert.equal(await outcome(policy, papLogin('TPVOUCHER1', 'TPVOUCHER1', PHONE_MAC)), 'voucher accepted');
    assert.equal(await outcome(policy, papLogin('02-00-00-00-00-01', '', PHONE_MAC)), 'mac accepted');
    assert.equal(await outcome(policy, papLogin('guest@example.org', LOGIN_PASSWORD)), 'password accepted');
  });

  it('a code that also spells a MAC is a voucher, and its reject does not fall through to MAC authentication', async (t) => {
    const scenario = await loginScenario(t);
    await scenario.store.update((db) => {
      db.vouchers[HEX_CODE] = { ...db.vouchers.TPVOUCHER1!, code: HEX_CODE };
      db.devices.hex = { ...db.devices.phone!, id: 'hex', mac: HEX_MAC };
    });
    const policy = policyOf(scenario);
    assert.equal(await outcome(policy, papLogin(HEX_CODE, 'guess', HEX_MAC)), 'voucher TP_ERR_INVALID_CREDENTIALS');
    assert.equal(await outcome(policy, papLogin(HEX_CODE, HEX_CODE, HEX_MAC)), 'voucher accepted');
  });

  it('a user name no mechanism claims is rejected as wrong credentials, saying no more', async (t) => {
    const policy = policyOf(await loginScenario(t));
    for (const name of ['nobody', 'nobody@example.org', 'tp-unknown', 'TPVOUCHER2'])
      assert.equal(await outcome(policy, papLogin(name, name)), 'unknown TP_ERR_INVALID_CREDENTIALS', name);
  });
});
