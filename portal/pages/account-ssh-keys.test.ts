import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SSH_KEYS_PER_USER } from '../../appliance/accounts/ssh-keys.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { grantIn } from '../../appliance/subscriptions/subscriptions.js';
import { dsaKeyLine, ed25519KeyLine } from '../../appliance/testing/ssh-public-keys.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

/** A signed-in guest who bought a plan with SSH access (keys mean nothing to anyone else). */
async function signedInBrowser(t: Parameters<typeof startGuestPortal>[0], lang = 'en') {
  const h = await startGuestPortal(t);
  const token = await h.tokenFor('guest');
  const userId = Object.values(h.store.db.users).find((user) => user.role === 'guest')!.id;
  const plan = await createPlan(h.store, h.clock, {
    name: 'Shell week',
    durationSeconds: 7 * 86_400,
    services: ['internet', 'ssh'],
  });
  await h.store.update((db) => {
    grantIn(db, h.clock.now(), { userId, voucherCode: null, plan, source: 'staff-grant', sourceRef: null });
  });
  const browser = new FormClient(h.app, { headers: { 'accept-language': lang } });
  browser.cookies.set('tp_access', token);
  return { h, browser, userId };
}

test('the account page adds an SSH key from the textarea, lists it by type, comment and fingerprint, and removes it', async (t) => {
  const { h, browser, userId } = await signedInBrowser(t);
  const empty = await browser.get('/portal/account');
  assert.equal(empty.statusCode, 200);
  assert.match(empty.body, /<h2 id="ssh-h">SSH keys<\/h2>/);
  assert.match(empty.body, /No SSH keys yet\./);
  assert.match(empty.body, /<form method="post" action="\/portal\/account\/ssh-keys">/);

  const added = await browser.post('/portal/account/ssh-keys', { publicKey: `${ed25519KeyLine('ada@phone')}\r\n` });
  assert.equal(added.statusCode, 200);
  assert.match(added.body, /Your SSH key has been added\./);
  const [key] = h.store.db.users[userId]!.sshKeys;
  assert.ok(key);
  assert.match(
    added.body,
    /<b>ssh-ed25519<\/b> · ada@phone<br><small data-fingerprint>SHA256:[A-Za-z0-9+/]{43}<\/small>/,
  );
  assert.ok(added.body.includes(key.fingerprint));

  const removed = await browser.post('/portal/account/ssh-keys/remove', { keyId: key.id });
  assert.equal(removed.statusCode, 200);
  assert.match(removed.body, /The SSH key has been removed\./);
  assert.deepEqual(h.store.db.users[userId]!.sshKeys, []);
});

test('a refused key is shown on the page in the guest’s language, and forms without the CSRF token change nothing', async (t) => {
  const { h, browser, userId } = await signedInBrowser(t, 'de');
  await browser.get('/portal/account');
  const dsa = await browser.post('/portal/account/ssh-keys', { publicKey: dsaKeyLine() });
  assert.equal(dsa.statusCode, 400);
  assert.match(
    dsa.body,
    /<p class="error" role="alert">Diesen öffentlichen SSH-Schlüssel können wir nicht annehmen: DSA keys are not accepted\.<\/p>/,
  );

  const line = ed25519KeyLine();
  assert.equal((await browser.post('/portal/account/ssh-keys', { publicKey: line })).statusCode, 200);
  const twice = await browser.post('/portal/account/ssh-keys', { publicKey: line });
  assert.equal(twice.statusCode, 409);
  assert.match(twice.body, /Dieser Schlüssel ist bereits in Ihrem Konto\./);

  const forged = await browser.post('/portal/account/ssh-keys', { publicKey: ed25519KeyLine() }, { withCsrf: false });
  assert.equal(forged.statusCode, 403);
  const keyId = h.store.db.users[userId]!.sshKeys[0]!.id;
  const forgedRemove = await browser.post('/portal/account/ssh-keys/remove', { keyId }, { withCsrf: false });
  assert.equal(forgedRemove.statusCode, 403);
  assert.equal(h.store.db.users[userId]!.sshKeys.length, 1);
});

test('with the most keys an account may hold, the account page stays under 50 KB', async (t) => {
  const { h, browser, userId } = await signedInBrowser(t);
  for (let i = 0; i < MAX_SSH_KEYS_PER_USER; i++) {
    await h.accounts.sshKeys.add(userId, ed25519KeyLine(`key-${i}-${'x'.repeat(90)}`));
  }
  const page = await browser.get('/portal/account');
  assert.equal(page.statusCode, 200);
  assert.equal([...page.body.matchAll(/data-fingerprint>/g)].length, MAX_SSH_KEYS_PER_USER);
  assert.ok(Buffer.byteLength(page.body) < 50 * 1024, `${Buffer.byteLength(page.body)} bytes`);
  const stranger = new FormClient(h.app);
  assert.equal((await stranger.get('/portal/account')).statusCode, 303, 'signed out → sent to log in');
});
