import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loginScenario, PHONE_MAC, LAPTOP_MAC } from '../../testing/login-scenario.js';
import type { LoginRequest } from './login-mechanism.js';
import { macAuth } from './mac-auth.js';

const reason = (decision: { ok: boolean; code?: string }): string => (decision.ok ? 'accepted' : decision.code!);
/** What CoovaChilli's macauth sends: the MAC as user name, no password, and the MAC it saw. */
const macLogin = (userName: string, seen: string | null): LoginRequest => ({
  userName,
  proof: { kind: 'none' },
  mac: seen,
  ip: null,
});

describe('MAC authentication', () => {
  it('claims a user name that spells a MAC in any notation, and nothing else', async (t) => {
    const { context } = await loginScenario(t);
    for (const name of ['02:00:00:00:00:01', '02-00-00-00-00-01', '0200.0000.0001', '020000000001'])
      assert.equal(macAuth.claims(macLogin(name, null), context), true, name);
    for (const name of ['guest@example.org', 'TPVOUCHER1', '02:00:00:00:00', 'zz:00:00:00:00:01'])
      assert.equal(macAuth.claims(macLogin(name, null), context), false, name);
  });

  it("admits a remembered device on its owner's subscription", async (t) => {
    const { context } = await loginScenario(t);
    const decision = macAuth.authenticate(macLogin('02-00-00-00-00-01', PHONE_MAC), context);
    assert.ok(!(decision instanceof Promise) && decision.ok);
    assert.equal(decision.entitlement.subscription.id, 'sub-u1');
  });

  it('rejects a MAC the NAS did not see (a typed-in MAC of someone else) and a device no one remembers', async (t) => {
    const { context } = await loginScenario(t);
    assert.equal(
      reason(await macAuth.authenticate(macLogin(PHONE_MAC, LAPTOP_MAC), context)),
      'TP_ERR_INVALID_CREDENTIALS',
    );
    assert.equal(reason(await macAuth.authenticate(macLogin(PHONE_MAC, null), context)), 'TP_ERR_INVALID_CREDENTIALS');
    assert.equal(
      reason(await macAuth.authenticate(macLogin(LAPTOP_MAC, LAPTOP_MAC), context)),
      'TP_ERR_INVALID_CREDENTIALS',
    );
  });

  it("rejects a remembered device whose owner's time has run out", async (t) => {
    const { context, clock } = await loginScenario(t);
    clock.advance(3_600_001);
    assert.equal(
      reason(await macAuth.authenticate(macLogin(PHONE_MAC, PHONE_MAC), context)),
      'TP_ERR_ENTITLEMENT_EXPIRED',
    );
  });
});
