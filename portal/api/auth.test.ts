import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode } from '../../appliance/accounts/totp.js';
import {
  bearer,
  postJson,
  signedInAs,
  startAuthHarness,
  TEST_PASSWORD,
  type AuthHarness,
} from '../auth/auth-test-harness.js';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';

async function register(h: AuthHarness, email: string, password = TEST_PASSWORD) {
  return postJson(h.app, '/api/v1/auth/register', { email, password, displayName: 'Ada' });
}

/** Registration signs nobody in: register, then sign in with the password. */
async function registeredTokens(h: AuthHarness, email: string): Promise<TokenPair> {
  assert.equal((await register(h, email)).statusCode, 202);
  const login = await postJson(h.app, '/api/v1/auth/login', { email, password: TEST_PASSWORD });
  assert.equal(login.statusCode, 200, login.body);
  return login.json().tokens as TokenPair;
}

test('a guest registers, verifies the email once, logs in, refreshes and logs out', async () => {
  const h = await startAuthHarness();
  try {
    const reg = await register(h, 'Ada@Example.test');
    assert.equal(reg.statusCode, 202);
    assert.equal(reg.json().status, 'accepted');
    assert.equal(reg.json().tokens, undefined, 'registering signs nobody in');
    const stored = Object.values(h.store.db.users).find((user) => user.email === 'ada@example.test')!;
    const body = { user: { id: stored.id } };
    assert.equal(stored.role, 'guest');
    assert.equal(stored.emailVerified, false);
    assert.match(stored.passwordHash, /^\$2b\$10\$/);

    await h.auth.accounts.settled();
    const token = h.mail.lastTokenTo('ada@example.test');
    assert.ok(token, 'a verification mail was sent');
    assert.equal((await postJson(h.app, '/api/v1/auth/verify-email', { token })).statusCode, 200);
    assert.equal(h.store.db.users[body.user.id]!.emailVerified, true);
    const again = await postJson(h.app, '/api/v1/auth/verify-email', { token });
    assert.equal(again.statusCode, 401);
    assert.equal(again.json().error.code, 'TP_ERR_TOKEN_INVALID');

    const login = await postJson(h.app, '/api/v1/auth/login', { email: 'ADA@example.test', password: TEST_PASSWORD });
    assert.equal(login.statusCode, 200);
    assert.equal(login.json().status, 'ok');
    const tokens = login.json().tokens as TokenPair;
    const me = await h.app.inject({ url: '/api/v1/me', headers: bearer(tokens) });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().displayName, 'Ada');
    assert.deepEqual(me.json().securitySetupRequired, []);

    const refreshed = await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    assert.equal(refreshed.statusCode, 200);
    const next = refreshed.json() as TokenPair;
    assert.notEqual(next.refreshToken, tokens.refreshToken, 'refresh tokens rotate on every use');
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(next) })).statusCode, 200);

    const logout = await postJson(h.app, '/api/v1/auth/logout', {}, bearer(next));
    assert.equal(logout.statusCode, 200);
    assert.equal(
      (await h.app.inject({ url: '/api/v1/me', headers: bearer(next) })).statusCode,
      401,
      'logout revokes the access token',
    );
    const afterLogout = await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: next.refreshToken });
    assert.equal(afterLogout.statusCode, 401, 'and its refresh token');

    const audit = await h.store.history('audit').readAll();
    const actions = audit.map((record) => record.action);
    for (const action of ['user.registered', 'email.verified', 'login.succeeded', 'session.logout']) {
      assert.ok(actions.includes(action), `audit has ${action}`);
    }
  } finally {
    await h.close();
  }
});

test('registration refuses short and common passwords; a taken email is answered like a new one', async () => {
  const h = await startAuthHarness();
  try {
    const short = await register(h, 'a@example.test', 'short1');
    assert.equal(short.statusCode, 400);
    assert.equal(short.json().error.code, 'TP_ERR_WEAK_PASSWORD');
    const common = await register(h, 'a@example.test', 'Password123');
    assert.equal(common.json().error.code, 'TP_ERR_WEAK_PASSWORD');
    assert.match(common.json().error.message, /common/);
    const fresh = await register(h, 'a@example.test');
    assert.equal(fresh.statusCode, 202);
    const taken = await register(h, 'A@example.test');
    assert.equal(taken.statusCode, fresh.statusCode);
    assert.equal(taken.body, fresh.body);
  } finally {
    await h.close();
  }
});

test('presenting a used refresh token revokes the whole family', async () => {
  const h = await startAuthHarness();
  try {
    const first = await registeredTokens(h, 'b@example.test');
    const second = (
      await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: first.refreshToken })
    ).json() as TokenPair;
    const third = (
      await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: second.refreshToken })
    ).json() as TokenPair;
    assert.ok(third.refreshToken);

    const replay = await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: first.refreshToken });
    assert.equal(replay.statusCode, 401);
    assert.equal(replay.json().error.code, 'TP_ERR_TOKEN_INVALID');
    const legit = await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: third.refreshToken });
    assert.equal(legit.statusCode, 401, 'the newest token of the family is revoked too');
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(third) })).statusCode, 401);
    const audit = await h.store.history('audit').readAll();
    assert.ok(audit.some((record) => record.action === 'session.refresh_reused'));
    assert.ok(Object.values(h.store.db.refreshTokens).every((token) => token.revokedAt !== null));
    assert.ok(
      Object.keys(h.store.db.refreshTokens).every((hash) => /^[0-9a-f]{64}$/.test(hash)) &&
        !JSON.stringify(h.store.db).includes(third.refreshToken),
      'refresh tokens are stored hashed',
    );
  } finally {
    await h.close();
  }
});

test('an expired refresh token is refused', async () => {
  const h = await startAuthHarness({ overrides: { auth: { refreshTokenTtlSeconds: 3600 } } });
  try {
    const tokens = await registeredTokens(h, 'c@example.test');
    h.clock.advance(3601_000);
    assert.equal(
      (await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: tokens.refreshToken })).statusCode,
      401,
    );
  } finally {
    await h.close();
  }
});

test('MFA: enrolment, login with a TOTP code, a recovery code works once, a code cannot be replayed', async () => {
  const h = await startAuthHarness();
  try {
    const tokens = await registeredTokens(h, 'm@example.test');
    const enrol = await postJson(h.app, '/api/v1/auth/mfa/enroll', undefined, bearer(tokens));
    assert.equal(enrol.statusCode, 200);
    const { secret, otpauthUrl } = enrol.json();
    assert.match(otpauthUrl, /^otpauth:\/\/totp\/Turnpike:m%40example\.test\?/);
    const wrong = await postJson(h.app, '/api/v1/auth/mfa/confirm', { code: '000000' }, bearer(tokens));
    assert.equal(wrong.json().error.code, 'TP_ERR_MFA_INVALID');
    const confirm = await postJson(
      h.app,
      '/api/v1/auth/mfa/confirm',
      { code: totpCode(secret, h.clock.now()) },
      bearer(tokens),
    );
    assert.equal(confirm.statusCode, 200);
    const recoveryCodes = confirm.json().recoveryCodes as string[];
    assert.equal(recoveryCodes.length, 10);
    assert.equal(confirm.json().user.mfaEnabled, true);
    const stored = h.store.db.users[confirm.json().user.id]!.mfa!;
    assert.ok(!stored.recoveryCodeHashes.includes(recoveryCodes[0]!), 'recovery codes are stored hashed');

    h.clock.advance(30_000);
    const login = await postJson(h.app, '/api/v1/auth/login', { email: 'm@example.test', password: TEST_PASSWORD });
    assert.equal(login.json().status, 'mfa_required');
    assert.equal(login.json().tokens, undefined);
    const mfaToken = login.json().mfaToken as string;
    assert.equal(
      (await h.app.inject({ url: '/api/v1/me', headers: bearer(mfaToken) })).statusCode,
      401,
      'the MFA token is no access token',
    );

    const code = totpCode(secret, h.clock.now());
    const ok = await postJson(h.app, '/api/v1/auth/mfa', { mfaToken, code });
    assert.equal(ok.statusCode, 200);
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(ok.json().tokens) })).statusCode, 200);
    const replay = await postJson(h.app, '/api/v1/auth/mfa', { mfaToken, code });
    assert.equal(replay.json().error.code, 'TP_ERR_TOKEN_INVALID', 'an mfaToken buys one session');

    const signIn = async () =>
      (await postJson(h.app, '/api/v1/auth/login', { email: 'm@example.test', password: TEST_PASSWORD })).json()
        .mfaToken as string;
    const codeAgain = await postJson(h.app, '/api/v1/auth/mfa', { mfaToken: await signIn(), code });
    assert.equal(codeAgain.json().error.code, 'TP_ERR_MFA_INVALID', 'a TOTP code works once');
    const second = await signIn();
    const byRecovery = await postJson(h.app, '/api/v1/auth/mfa', {
      mfaToken: second,
      recoveryCode: recoveryCodes[3]!.toUpperCase(),
    });
    assert.equal(byRecovery.statusCode, 200);
    const reused = await postJson(h.app, '/api/v1/auth/mfa', {
      mfaToken: await signIn(),
      recoveryCode: recoveryCodes[3],
    });
    assert.equal(reused.statusCode, 401);
    assert.equal(reused.json().error.code, 'TP_ERR_MFA_INVALID', 'a recovery code works once');
    assert.equal(h.store.db.users[confirm.json().user.id]!.mfa!.recoveryCodeHashes.length, 9);

    const third = await signIn();
    h.clock.advance(301_000);
    const stale = await postJson(h.app, '/api/v1/auth/mfa', { mfaToken: third, recoveryCode: recoveryCodes[4] });
    assert.equal(stale.json().error.code, 'TP_ERR_TOKEN_INVALID', 'the MFA token lives five minutes');

    h.clock.advance(30_000);
    const guestTokens = byRecovery.json().tokens as TokenPair;
    const noPassword = await postJson(
      h.app,
      '/api/v1/auth/mfa/disable',
      { password: 'not my password', code: totpCode(secret, h.clock.now()) },
      bearer(guestTokens),
    );
    assert.equal(noPassword.json().error.code, 'TP_ERR_INVALID_CREDENTIALS');
    const off = await postJson(
      h.app,
      '/api/v1/auth/mfa/disable',
      { password: TEST_PASSWORD, code: totpCode(secret, h.clock.now()) },
      bearer(guestTokens),
    );
    assert.equal(off.statusCode, 200);
    assert.equal(off.json().mfaEnabled, false, 'a guest may turn MFA off again');
    const plain = await postJson(h.app, '/api/v1/auth/login', { email: 'm@example.test', password: TEST_PASSWORD });
    assert.equal(plain.json().status, 'ok');
  } finally {
    await h.close();
  }
});

test('the first admin logs in with the one-time password and can reach only enrolment routes until MFA is on', async () => {
  const h = await startAuthHarness();
  try {
    const first = await h.auth.accounts.users.ensureFirstAdmin();
    assert.ok(first);
    assert.equal(first.email, 'admin@turnpike.local');
    assert.equal(await h.auth.accounts.users.ensureFirstAdmin(), null, 'only while no admin exists');

    const login = await postJson(h.app, '/api/v1/auth/login', { email: first.email, password: first.oneTimePassword });
    assert.equal(login.json().status, 'ok');
    assert.deepEqual(login.json().securitySetupRequired, ['password-change', 'mfa-enrolment']);
    const pending = login.json().tokens as TokenPair;
    const me = await h.app.inject({ url: '/api/v1/me', headers: bearer(pending) });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json().securitySetupRequired, ['password-change', 'mfa-enrolment']);
    const users = await h.app.inject({ url: '/api/v1/users', headers: bearer(pending) });
    assert.equal(users.statusCode, 401);
    assert.equal(users.json().error.code, 'TP_ERR_MFA_REQUIRED');

    const changed = await h.app.inject({
      method: 'PATCH',
      url: '/api/v1/me/password',
      headers: bearer(pending),
      payload: { currentPassword: first.oneTimePassword, newPassword: 'a much better staff passphrase' },
    });
    assert.equal(changed.statusCode, 200);
    assert.equal(
      (await h.app.inject({ url: '/api/v1/users', headers: bearer(pending) })).statusCode,
      401,
      'still owes MFA',
    );

    const { secret } = (await postJson(h.app, '/api/v1/auth/mfa/enroll', undefined, bearer(pending))).json();
    const confirm = await postJson(
      h.app,
      '/api/v1/auth/mfa/confirm',
      { code: totpCode(secret, h.clock.now()) },
      bearer(pending),
    );
    const full = confirm.json().tokens as TokenPair;
    assert.equal((await h.app.inject({ url: '/api/v1/users', headers: bearer(full) })).statusCode, 200);
    assert.equal(
      (await h.app.inject({ url: '/api/v1/me', headers: bearer(pending) })).statusCode,
      401,
      'the pending session ended',
    );

    const refreshed = (
      await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: full.refreshToken })
    ).json() as TokenPair;
    assert.equal(
      (await h.app.inject({ url: '/api/v1/users', headers: bearer(refreshed) })).statusCode,
      200,
      'the second factor survives rotation',
    );

    const keepMfa = await postJson(
      h.app,
      '/api/v1/auth/mfa/disable',
      { password: 'a much better staff passphrase', code: totpCode(secret, h.clock.now() + 30_000) },
      bearer(refreshed),
    );
    assert.equal(keepMfa.statusCode, 403, 'staff cannot turn MFA off');

    h.clock.advance(30_000);
    const again = await postJson(h.app, '/api/v1/auth/login', {
      email: first.email,
      password: 'a much better staff passphrase',
    });
    assert.equal(again.json().status, 'mfa_required');
  } finally {
    await h.close();
  }
});

test('password reset: same answer for unknown emails, single use, 30-minute expiry, ends sessions', async () => {
  const h = await startAuthHarness();
  try {
    const tokens = await registeredTokens(h, 'r@example.test');
    await h.auth.accounts.settled();
    const known = await postJson(h.app, '/api/v1/auth/password-reset', { email: 'r@example.test' });
    const unknown = await postJson(h.app, '/api/v1/auth/password-reset', { email: 'nobody@example.test' });
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, known.statusCode);
    assert.equal(unknown.body, known.body);
    await h.auth.accounts.settled();
    assert.equal(h.mail.sent.filter((m) => m.to === 'nobody@example.test').length, 0);
    const token = h.mail.lastTokenTo('r@example.test')!;
    assert.ok(token && h.mail.sent.at(-1)!.subject.includes('Reset'));
    assert.ok(!JSON.stringify(h.store.db.oneTimeTokens).includes(token), 'stored hashed');

    const weak = await postJson(h.app, '/api/v1/auth/password-reset/confirm', { token, password: 'qwertyuiop' });
    assert.equal(weak.json().error.code, 'TP_ERR_WEAK_PASSWORD');
    const done = await postJson(h.app, '/api/v1/auth/password-reset/confirm', {
      token,
      password: 'brand new passphrase 1',
    });
    assert.equal(done.statusCode, 200);
    const twice = await postJson(h.app, '/api/v1/auth/password-reset/confirm', {
      token,
      password: 'brand new passphrase 2',
    });
    assert.equal(twice.statusCode, 401);
    assert.equal(twice.json().error.code, 'TP_ERR_TOKEN_INVALID');
    assert.equal(
      (await h.app.inject({ url: '/api/v1/me', headers: bearer(tokens) })).statusCode,
      401,
      'old sessions end',
    );
    const login = await postJson(h.app, '/api/v1/auth/login', {
      email: 'r@example.test',
      password: 'brand new passphrase 1',
    });
    assert.equal(login.statusCode, 200);

    await postJson(h.app, '/api/v1/auth/password-reset', { email: 'r@example.test' });
    await h.auth.accounts.settled();
    const late = h.mail.lastTokenTo('r@example.test')!;
    h.clock.advance(30 * 60_000 + 1);
    const expired = await postJson(h.app, '/api/v1/auth/password-reset/confirm', {
      token: late,
      password: 'brand new passphrase 3',
    });
    assert.equal(expired.statusCode, 401, 'a reset link lives 30 minutes');
  } finally {
    await h.close();
  }
});

test('changing the password ends other sessions but keeps the current one', async () => {
  const h = await startAuthHarness();
  try {
    const one = await registeredTokens(h, 'p@example.test');
    const two = (
      await postJson(h.app, '/api/v1/auth/login', { email: 'p@example.test', password: TEST_PASSWORD })
    ).json().tokens as TokenPair;
    const wrong = await h.app.inject({
      method: 'PATCH',
      url: '/api/v1/me/password',
      headers: bearer(one),
      payload: { currentPassword: 'not the password', newPassword: 'another fine passphrase' },
    });
    assert.equal(wrong.json().error.code, 'TP_ERR_INVALID_CREDENTIALS');
    const ok = await h.app.inject({
      method: 'PATCH',
      url: '/api/v1/me/password',
      headers: bearer(one),
      payload: { currentPassword: TEST_PASSWORD, newPassword: 'another fine passphrase' },
    });
    assert.equal(ok.statusCode, 200);
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(one) })).statusCode, 200);
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(two) })).statusCode, 401);
  } finally {
    await h.close();
  }
});

test('a disabled account cannot log in and its sessions end; an operator is refused admin routes', async () => {
  const h = await startAuthHarness();
  try {
    const admin = await signedInAs(h, 'admin');
    const operator = await signedInAs(h, 'operator');
    const guest = await signedInAs(h, 'guest');
    const list = await h.app.inject({ url: '/api/v1/users?role=guest', headers: bearer(operator.tokens) });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().total, 1);
    const patchByOperator = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${guest.userId}`,
      headers: bearer(operator.tokens),
      payload: { disabled: true },
    });
    assert.equal(patchByOperator.statusCode, 403);

    const disable = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${guest.userId}`,
      headers: bearer(admin.tokens),
      payload: { disabled: true },
    });
    assert.equal(disable.statusCode, 200);
    assert.equal(disable.json().disabled, true);
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(guest.tokens) })).statusCode, 401);
    const login = await postJson(h.app, '/api/v1/auth/login', { email: guest.email, password: TEST_PASSWORD });
    assert.equal(login.statusCode, 403);
    assert.equal(login.json().error.code, 'TP_ERR_ACCOUNT_DISABLED');

    const lastAdmin = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${admin.userId}`,
      headers: bearer(admin.tokens),
      payload: { role: 'guest' },
    });
    assert.equal(lastAdmin.statusCode, 409, 'the last admin cannot demote itself');

    const created = await postJson(
      h.app,
      '/api/v1/users',
      { email: 'new-op@example.test', role: 'operator' },
      bearer(admin.tokens),
    );
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().user.mustChangePassword, true);
    assert.match(created.json().oneTimePassword, /^[a-z2-9]{20}$/);
    assert.match(h.store.db.users[created.json().user.id]!.passwordHash, /^\$2b\$10\$/);
    const promoted = await h.auth.accounts.users.setRole('new-op@example.test', 'admin');
    assert.equal(promoted.role, 'admin');
  } finally {
    await h.close();
  }
});

test('the emailed links open forms that work without JavaScript; opening a link spends nothing and sheds the token from the URL', async () => {
  const h = await startAuthHarness();
  try {
    await register(h, 'links@example.test');
    await postJson(h.app, '/api/v1/auth/password-reset', { email: 'links@example.test' });
    await h.auth.accounts.settled();
    const [verifyMail, resetMail] = h.mail.sent;
    const verifyLink = new URL(/https?:\/\/\S+/.exec(verifyMail!.text)![0]);
    const resetLink = new URL(/https?:\/\/\S+/.exec(resetMail!.text)![0]);
    assert.equal(verifyLink.pathname, '/auth/verify-email');
    assert.equal(resetLink.pathname, '/auth/reset-password');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    const opened = await h.app.inject({ url: verifyLink.pathname + verifyLink.search });
    assert.equal(opened.statusCode, 303);
    assert.equal(opened.headers.location, '/auth/verify-email', 'the token leaves the URL after the first request');
    const carried = opened.cookies.find((cookie) => cookie.name === 'tp_link')!;
    assert.equal(carried.httpOnly, true);
    const verifyPage = await h.app.inject({ url: '/auth/verify-email', cookies: { tp_link: carried.value } });
    assert.equal(verifyPage.statusCode, 200);
    assert.match(verifyPage.body, /<form method="post" action="\/auth\/verify-email">/);
    assert.equal(Object.values(h.store.db.users)[0]!.emailVerified, false, 'opening the link spends nothing');
    const verifyToken = verifyLink.searchParams.get('token')!;
    const verified = await h.app.inject({
      method: 'POST',
      url: '/auth/verify-email',
      headers: form,
      payload: `token=${verifyToken}`,
    });
    assert.equal(verified.statusCode, 200);
    assert.match(verified.body, /confirmed/);
    assert.equal(Object.values(h.store.db.users)[0]!.emailVerified, true);

    const resetToken = resetLink.searchParams.get('token')!;
    assert.equal((await h.app.inject({ url: resetLink.pathname + resetLink.search })).statusCode, 303);
    assert.match(
      (await h.app.inject({ url: '/auth/reset-password', cookies: { tp_link: resetToken } })).body,
      /name="password"/,
    );
    const weak = await h.app.inject({
      method: 'POST',
      url: '/auth/reset-password',
      headers: form,
      payload: `token=${resetToken}&password=short`,
    });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.headers['content-type'] as string, /^text\/html/);
    assert.match(weak.body, /at least 10/);
    assert.match(weak.body, /name="password"/, 'the form is offered again');
    const done = await h.app.inject({
      method: 'POST',
      url: '/auth/reset-password',
      headers: form,
      payload: `token=${resetToken}&password=${encodeURIComponent('fresh page passphrase')}`,
    });
    assert.equal(done.statusCode, 200);
    const spent = await h.app.inject({
      method: 'POST',
      url: '/auth/reset-password',
      headers: form,
      payload: `token=${resetToken}&password=${encodeURIComponent('another page passphrase')}`,
    });
    assert.equal(spent.statusCode, 401);
    assert.match(spent.body, /invalid or has expired/);
    const login = await postJson(h.app, '/api/v1/auth/login', {
      email: 'links@example.test',
      password: 'fresh page passphrase',
    });
    assert.equal(login.statusCode, 200);
  } finally {
    await h.close();
  }
});
