import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRecord } from '../../appliance/accounts/audit.js';
import { totpCode } from '../../appliance/accounts/totp.js';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { startAuthHarness, bearer, type AuthHarness } from '../auth/auth-test-harness.js';
import { consoleStaff, STAFF_PASSWORD } from './console-test-kit.js';

/** The same admin, signed in at both doors: the console's forms and a bearer token for `/api/v1`. */
async function bothDoors(h: AuthHarness) {
  const staff = await consoleStaff(h, 'admin');
  const login = await h.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: staff.email, password: STAFF_PASSWORD },
  });
  const mfa = await h.app.inject({
    method: 'POST',
    url: '/api/v1/auth/mfa',
    payload: { mfaToken: login.json().mfaToken, code: totpCode(staff.secret, h.clock.now()) },
  });
  assert.equal(mfa.statusCode, 200, mfa.body);
  return { browser: staff.browser, api: bearer(mfa.json().tokens.accessToken as string) };
}

/** Two objects made alike; what an entry says about one must be what it says about the other. */
async function twinSessions(h: AuthHarness, tag: string) {
  const plan = await createPlan(h.store, h.clock, { name: `Day ${tag}`, durationSeconds: 86_400 });
  const nas = await addNasClient(h.store, h.clock, { name: `lobby-${tag}`, source: `10.0.0.${tag.length}` });
  const twins: Array<{ sessionId: string; subscriptionId: string; code: string }> = [];
  for (const code of [`${tag.toUpperCase()}A`, `${tag.toUpperCase()}B`]) {
    const subscription = await grantSubscription(h.store, h.clock, {
      userId: null,
      voucherCode: code,
      plan,
      source: 'voucher',
      sourceRef: code,
    });
    const sessionId = `s-${code}`;
    await h.store.update((db) => {
      db.sessions[sessionId] = {
        id: sessionId,
        subscriptionId: subscription.id,
        ownerKey: `voucher:${code}`,
        nasId: nas.id,
        acctSessionId: code,
        mode: 'controller',
        mac: 'aa:bb:cc:dd:ee:01',
        ip: '10.1.0.7',
        startedAt: h.clock.now(),
        lastUpdateAt: h.clock.now(),
        interimIntervalSeconds: 300,
        inputOctets: 0,
        outputOctets: 0,
        chargedOctets: 0,
        disconnectPendingSince: null,
      };
    });
    twins.push({ sessionId, subscriptionId: subscription.id, code });
  }
  return twins as [(typeof twins)[0], (typeof twins)[0]];
}

/** The newest entry of an action, with the ids of its object replaced by a placeholder. */
async function newest(h: AuthHarness, action: string, ids: string[]): Promise<unknown> {
  const entries = await h.store.history<AuditRecord>('audit').readAll();
  const entry = entries.filter((candidate) => candidate.action === action).at(-1);
  assert.ok(entry, `an entry ${action}`);
  let text = JSON.stringify(entry);
  for (const id of ids) text = text.split(id).join('<object>');
  return JSON.parse(text);
}

test('the console and the API write the same audit entry for the same action, since the command writes it', async () => {
  const h = await startAuthHarness({ withGuestJourney: true });
  try {
    const { browser, api } = await bothDoors(h);
    const [one, two] = await twinSessions(h, 'kick');

    // A kick: the console's button and DELETE /api/v1/sessions/:id.
    const page = await browser.post(`/admin/sessions/${one.sessionId}/kick`, {});
    assert.equal(page.statusCode, 200, page.body);
    const kickedByConsole = await newest(h, 'session.kicked', [one.sessionId, one.code]);
    const kick = await h.app.inject({ method: 'DELETE', url: `/api/v1/sessions/${two.sessionId}`, headers: api });
    assert.equal(kick.statusCode, 200, kick.body);
    assert.deepEqual(await newest(h, 'session.kicked', [two.sessionId, two.code]), kickedByConsole);

    // An extension: an hour from the session page, 3600 seconds from the API.
    {
      const [three, four] = await twinSessions(h, 'ext');
      const extended = await browser.post(`/admin/sessions/${three.sessionId}/extend`, { minutes: '60' });
      assert.equal(extended.statusCode, 200, extended.body);
      const byConsole = await newest(h, 'subscription.extended', [three.subscriptionId, three.code]);
      const res = await h.app.inject({
        method: 'POST',
        url: `/api/v1/subscriptions/${four.subscriptionId}/extend`,
        headers: api,
        payload: { seconds: 3600 },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(await newest(h, 'subscription.extended', [four.subscriptionId, four.code]), byConsole);
    }

    // A plan retired.
    const retiring = await createPlan(h.store, h.clock, { name: 'Retire A', durationSeconds: 3600 });
    const twin = await createPlan(h.store, h.clock, { name: 'Retire B', durationSeconds: 3600 });
    assert.equal((await browser.post(`/admin/plans/${retiring.id}/retire`, {})).statusCode, 200);
    const retiredByConsole = await newest(h, 'plan.retired', [retiring.id]);
    const retired = await h.app.inject({ method: 'DELETE', url: `/api/v1/plans/${twin.id}`, headers: api });
    assert.equal(retired.statusCode, 200, retired.body);
    assert.deepEqual(await newest(h, 'plan.retired', [twin.id]), retiredByConsole);

    // One voucher code revoked.
    const { batch, codes } = await createVoucherBatch(h.store, h.clock, {
      planId: (await createPlan(h.store, h.clock, { name: 'Codes' })).id,
      count: 2,
      createdBy: 'test',
    });
    const [first, second] = codes as [string, string];
    const revoke = await browser.post(`/admin/vouchers/${batch.id}/revoke-code`, { code: first });
    assert.equal(revoke.statusCode, 200, revoke.body);
    const revokedByConsole = await newest(h, 'voucher.revoked', [first]);
    const viaApi = await h.app.inject({ method: 'POST', url: `/api/v1/vouchers/${second}/revoke`, headers: api });
    assert.equal(viaApi.statusCode, 200, viaApi.body);
    assert.deepEqual(await newest(h, 'voucher.revoked', [second]), revokedByConsole);

    // A guest disabled.
    const users = h.auth.accounts.users;
    const guestA = await users.createUser({ email: 'a@example.test', role: 'guest', displayName: 'Twin' }, null);
    const guestB = await users.createUser({ email: 'b@example.test', role: 'guest', displayName: 'Twin' }, null);
    const disable = await browser.post(`/admin/people/${guestA.user.id}`, { action: 'disable' });
    assert.equal(disable.statusCode, 200, disable.body);
    const disabledByConsole = await newest(h, 'user.updated', [guestA.user.id]);
    const patched = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${guestB.user.id}`,
      headers: api,
      payload: { disabled: true },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual(await newest(h, 'user.updated', [guestB.user.id]), disabledByConsole);
    assert.deepEqual((disabledByConsole as AuditRecord).after, {
      role: 'guest',
      disabled: true,
      displayName: 'Twin',
      mfaEnabled: false,
    });
  } finally {
    await h.close();
  }
});
