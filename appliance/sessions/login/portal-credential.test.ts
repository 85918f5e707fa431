import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chapLogin, LAPTOP_MAC, loginScenario, papLogin, PHONE_MAC } from '../../testing/login-scenario.js';
import { portalCredential } from './portal-credential.js';

const reason = (decision: { ok: boolean; code?: string }): string => (decision.ok ? 'accepted' : decision.code!);

describe('portal one-time credential', () => {
  it('claims a user name the portal minted, and nothing else', async (t) => {
    const { context } = await loginScenario(t);
    assert.equal(portalCredential.claims(papLogin('tp-once', 'x'), context), true);
    assert.equal(portalCredential.claims(papLogin('tp-other', 'x'), context), false);
    assert.equal(portalCredential.claims(papLogin('guest@example.org', 'x'), context), false);
  });

  it('admits the laptop it was minted for once, over PAP, with the subscription it names', async (t) => {
    const { context, store } = await loginScenario(t);
    const decision = await portalCredential.authenticate(papLogin('tp-once', 'one-time-pass', LAPTOP_MAC), context);
    assert.ok(decision.ok);
    assert.equal(decision.entitlement.subscription.id, 'sub-u1');
    assert.notEqual(store.db.portalCredentials['tp-once']!.usedAt, null, 'spent by the login');
    const again = await portalCredential.authenticate(papLogin('tp-once', 'one-time-pass', LAPTOP_MAC), context);
    assert.equal(reason(again), 'TP_ERR_TOKEN_INVALID');
  });

  it('admits over CHAP too (UAM logins answer the NAS challenge with it)', async (t) => {
    const { context } = await loginScenario(t);
    assert.equal(
      reason(await portalCredential.authenticate(chapLogin('tp-once', 'one-time-pass', LAPTOP_MAC), context)),
      'accepted',
    );
  });

  it('rejects a wrong password without spending the credential', async (t) => {
    const { context, store } = await loginScenario(t);
    const decision = await portalCredential.authenticate(papLogin('tp-once', 'guess', LAPTOP_MAC), context);
    assert.equal(reason(decision), 'TP_ERR_INVALID_CREDENTIALS');
    assert.equal(store.db.portalCredentials['tp-once']!.usedAt, null);
  });

  it('rejects the credential from another device, and once it is older than its two minutes', async (t) => {
    const { context, clock } = await loginScenario(t);
    const fromPhone = await portalCredential.authenticate(papLogin('tp-once', 'one-time-pass', PHONE_MAC), context);
    assert.equal(reason(fromPhone), 'TP_ERR_INVALID_CREDENTIALS');
    clock.advance(120_001);
    const late = await portalCredential.authenticate(papLogin('tp-once', 'one-time-pass', LAPTOP_MAC), context);
    assert.equal(reason(late), 'TP_ERR_TOKEN_INVALID');
  });

  it('rejects when the subscription it names has ended', async (t) => {
    const { context, store } = await loginScenario(t);
    await store.update((db) => {
      db.subscriptions['sub-u1']!.status = 'suspended';
    });
    const decision = await portalCredential.authenticate(papLogin('tp-once', 'one-time-pass', LAPTOP_MAC), context);
    assert.equal(reason(decision), 'TP_ERR_ENTITLEMENT_EXPIRED');
  });
});
