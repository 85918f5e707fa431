import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chapLogin, LOGIN_PASSWORD, loginScenario, papLogin, PHONE_MAC } from '../../testing/login-scenario.js';
import { accountPassword } from './account-password.js';

const reason = (decision: { ok: boolean; code?: string }): string => (decision.ok ? 'accepted' : decision.code!);

describe('account password', () => {
  it("claims an account's email in any case, and nothing else", async (t) => {
    const { context } = await loginScenario(t);
    assert.equal(accountPassword.claims(papLogin('Guest@Example.ORG', ''), context), true);
    assert.equal(accountPassword.claims(papLogin('nobody@example.org', ''), context), false);
    assert.equal(accountPassword.claims(papLogin('guest', ''), context), false);
  });

  it('admits the right password over PAP with bcrypt once, then from the cache without waiting', async (t) => {
    const { context, bcryptCalls } = await loginScenario(t);
    const first = await accountPassword.authenticate(papLogin('guest@example.org', LOGIN_PASSWORD, PHONE_MAC), context);
    assert.ok(first.ok);
    assert.equal(first.entitlement.subscription.id, 'sub-u1');
    const again = accountPassword.authenticate(papLogin('guest@example.org', LOGIN_PASSWORD, PHONE_MAC), context);
    assert.ok(!(again instanceof Promise), 'answered from the cache');
    assert.equal(reason(again), 'accepted');
    assert.equal(bcryptCalls(), 1);
  });

  it('rejects a wrong password, and any password over CHAP (a bcrypt hash cannot answer it)', async (t) => {
    const { context } = await loginScenario(t);
    assert.equal(
      reason(await accountPassword.authenticate(papLogin('guest@example.org', 'guess'), context)),
      'TP_ERR_INVALID_CREDENTIALS',
    );
    assert.equal(
      reason(await accountPassword.authenticate(chapLogin('guest@example.org', LOGIN_PASSWORD), context)),
      'TP_ERR_INVALID_CREDENTIALS',
    );
  });

  it('tells the holder of the right password that the account is disabled, and no one else', async (t) => {
    const { context } = await loginScenario(t);
    assert.equal(
      reason(await accountPassword.authenticate(papLogin('disabled@example.org', LOGIN_PASSWORD), context)),
      'TP_ERR_ACCOUNT_DISABLED',
    );
    assert.equal(
      reason(await accountPassword.authenticate(papLogin('disabled@example.org', 'guess'), context)),
      'TP_ERR_INVALID_CREDENTIALS',
    );
  });

  it("refuses a second device beyond the plan's limit while the first is online", async (t) => {
    const { context, store, clock } = await loginScenario(t);
    await store.update((db) => {
      db.sessions.s1 = {
        id: 's1',
        subscriptionId: 'sub-u1',
        ownerKey: 'user:u1',
        nasId: 'nas',
        acctSessionId: 'a1',
        mode: 'controller',
        mac: PHONE_MAC,
        ip: null,
        startedAt: clock.now(),
        lastUpdateAt: clock.now(),
        interimIntervalSeconds: 300,
        inputOctets: 0,
        outputOctets: 0,
        chargedOctets: 0,
        disconnectPendingSince: null,
      };
    });
    const decision = await accountPassword.authenticate(
      papLogin('guest@example.org', LOGIN_PASSWORD, '02:00:00:00:00:09'),
      context,
    );
    assert.equal(reason(decision), 'TP_ERR_DEVICE_LIMIT');
    const phone = await accountPassword.authenticate(papLogin('guest@example.org', LOGIN_PASSWORD, PHONE_MAC), context);
    assert.equal(reason(phone), 'accepted', 'the device already online does not count against itself');
  });
});
