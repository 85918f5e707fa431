import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, decodeProtectedHeader } from 'jose';
import { createLogger } from '../../shared/logger.js';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';
import {
  bearer,
  postJson,
  signedInAs,
  startAuthHarness,
  TEST_PASSWORD,
  type AuthHarness,
} from '../auth/auth-test-harness.js';

function assertErrorShape(response: { statusCode: number; json(): unknown }, status: number, code: string): void {
  assert.equal(response.statusCode, status);
  const body = response.json() as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  for (const key of Object.keys(body.error))
    assert.ok(['code', 'message', 'details'].includes(key), `unexpected ${key}`);
}

async function registered(h: AuthHarness, email = 'x@example.test'): Promise<TokenPair> {
  const response = await postJson(h.app, '/api/v1/auth/register', { email, password: TEST_PASSWORD });
  assert.equal(response.statusCode, 202);
  // Registration signs nobody in (it answers a taken address alike); the password does.
  const login = await postJson(h.app, '/api/v1/auth/login', { email, password: TEST_PASSWORD });
  assert.equal(login.statusCode, 200, login.body);
  return login.json().tokens as TokenPair;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

test('malformed JSON, a wrong content type, an oversized body and unknown fields get one clear error each', async () => {
  const h = await startAuthHarness();
  try {
    const malformed = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a@b.c", "password":',
    });
    assertErrorShape(malformed, 400, 'TP_ERR_VALIDATION');

    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const wrongType = await h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': type },
        payload: 'email=a%40b.c&password=xxxxxxxxxxxx',
      });
      assertErrorShape(wrongType, 415, 'TP_ERR_UNSUPPORTED_MEDIA');
    }

    const oversized = await postJson(h.app, '/api/v1/auth/register', {
      email: 'big@example.test',
      password: TEST_PASSWORD,
      displayName: 'x'.repeat(70_000),
    });
    assertErrorShape(oversized, 413, 'TP_ERR_PAYLOAD_TOO_LARGE');

    const unknown = await postJson(h.app, '/api/v1/auth/register', {
      email: 'u@example.test',
      password: TEST_PASSWORD,
      role: 'admin',
    });
    assertErrorShape(unknown, 400, 'TP_ERR_VALIDATION');
    assert.match(unknown.json().error.message, /^body: role: not a known field$/);
    assert.equal(Object.keys(h.store.db.users).length, 0, 'nothing was stored');

    const badEmail = await postJson(h.app, '/api/v1/auth/register', { email: 'not an email', password: TEST_PASSWORD });
    assertErrorShape(badEmail, 400, 'TP_ERR_VALIDATION');
  } finally {
    await h.close();
  }
});

test('HTML in a display name is stored as text and escaped where it is shown', async () => {
  const h = await startAuthHarness();
  try {
    const name = '<script>alert("x")</script> & <b>bold</b>';
    const response = await postJson(h.app, '/api/v1/auth/register', {
      email: 'html@example.test',
      password: TEST_PASSWORD,
      displayName: name,
    });
    assert.equal(response.statusCode, 202);
    const login = await postJson(h.app, '/api/v1/auth/login', { email: 'html@example.test', password: TEST_PASSWORD });
    const tokens = login.json().tokens as TokenPair;
    assert.equal(login.json().user.displayName, name, 'stored verbatim as text');
    const me = await h.app.inject({ url: '/api/v1/me', headers: bearer(tokens) });
    assert.match(me.headers['content-type'] as string, /^application\/json/);
    assert.equal(me.json().displayName, name);

    const page = await h.app.inject({ url: '/auth/logout', headers: { cookie: `tp_access=${tokens.accessToken}` } });
    assert.equal(page.statusCode, 200);
    assert.ok(!page.body.includes('<script>'), 'no live script tag in the page');
    assert.ok(page.body.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;'));

    const control = await h.app.inject({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: bearer(tokens),
      payload: { displayName: 'bad\u0000name' },
    });
    assertErrorShape(control, 400, 'TP_ERR_VALIDATION');
  } finally {
    await h.close();
  }
});

test('forged JWTs are refused: alg none, a foreign key, a tampered payload, an expired exp', async () => {
  const h = await startAuthHarness();
  try {
    const tokens = await registered(h);
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(tokens) })).statusCode, 200);
    const [header, payload, signature] = tokens.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const kid = h.auth.accounts.keys.activeKid!;

    const none = `${b64url({ alg: 'none', typ: 'JWT', kid })}.${payload}.`;
    assertErrorShape(await h.app.inject({ url: '/api/v1/me', headers: bearer(none) }), 401, 'TP_ERR_UNAUTHENTICATED');

    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    assert.ok(await exportJWK(privateKey));
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' }).sign(privateKey);
    assertErrorShape(
      await h.app.inject({ url: '/api/v1/me', headers: bearer(foreign) }),
      401,
      'TP_ERR_UNAUTHENTICATED',
    );

    const tampered = `${header}.${b64url({ ...claims, role: 'admin' })}.${signature}`;
    assertErrorShape(
      await h.app.inject({ url: '/api/v1/users', headers: bearer(tampered) }),
      401,
      'TP_ERR_UNAUTHENTICATED',
    );

    const hs256 = `${b64url({ alg: 'HS256', typ: 'JWT', kid })}.${payload}.${signature}`;
    assertErrorShape(await h.app.inject({ url: '/api/v1/me', headers: bearer(hs256) }), 401, 'TP_ERR_UNAUTHENTICATED');

    h.clock.advance(15 * 60_000 + 1000);
    assertErrorShape(await h.app.inject({ url: '/api/v1/me', headers: bearer(tokens) }), 401, 'TP_ERR_UNAUTHENTICATED');
    assert.equal(
      (await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: tokens.refreshToken })).statusCode,
      200,
      'the refresh token outlives the access token',
    );
  } finally {
    await h.close();
  }
});

test('key rotation: old tokens verify until they expire; new tokens carry the new kid', async () => {
  const h = await startAuthHarness();
  try {
    const admin = await signedInAs(h, 'admin');
    const oldKid = decodeProtectedHeader(admin.tokens.accessToken).kid;
    assert.equal(oldKid, h.auth.accounts.keys.activeKid);
    const rotated = await postJson(h.app, '/api/v1/auth/signing-keys/rotate', undefined, bearer(admin.tokens));
    assert.equal(rotated.statusCode, 200);
    const newKid = rotated.json().kid as string;
    assert.notEqual(newKid, oldKid);
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(admin.tokens) })).statusCode, 200);

    const guest = await registered(h, 'after-rotation@example.test');
    assert.equal(decodeProtectedHeader(guest.accessToken).kid, newKid);
    const retired = h.store.db.signingKeys.find((key) => key.kid === oldKid)!;
    assert.ok(retired.retiredAt !== null);

    h.clock.advance(16 * 60_000);
    await h.auth.accounts.rotateSigningKey(null);
    assert.equal(
      h.store.db.signingKeys.some((key) => key.kid === oldKid),
      false,
      'a key is dropped once its tokens expired',
    );
    assert.equal(h.store.db.signingKeys.length, 2);
    assert.equal(h.store.db.signingKeys.filter((key) => key.retiredAt === null).length, 1);
  } finally {
    await h.close();
  }
});

test('cookie sessions: a form post without a CSRF token is refused; with one it signs out', async () => {
  const h = await startAuthHarness();
  try {
    const tokens = await registered(h, 'cookie@example.test');
    const session = `tp_access=${tokens.accessToken}; tp_refresh=${tokens.refreshToken}`;
    const page = await h.app.inject({ url: '/auth/logout', headers: { cookie: session } });
    assert.equal(page.statusCode, 200);
    const csrfToken = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const csrfCookie = page.cookies.find((cookie) => cookie.name === 'tp_csrf')!;
    assert.ok(csrfCookie.httpOnly);

    const missing = await h.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: {
        cookie: `${session}; tp_csrf=${csrfCookie.value}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: '',
    });
    assertErrorShape(missing, 403, 'TP_ERR_CSRF');
    assert.equal(
      (await h.app.inject({ url: '/api/v1/me', headers: bearer(tokens) })).statusCode,
      200,
      'still signed in',
    );

    const ok = await h.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: {
        cookie: `${session}; tp_csrf=${csrfCookie.value}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: `_csrf=${encodeURIComponent(csrfToken)}`,
    });
    assert.equal(ok.statusCode, 303);
    const cleared = ok.cookies.filter((cookie) => cookie.name === 'tp_access' || cookie.name === 'tp_refresh');
    assert.equal(cleared.length, 2);
    assert.ok(cleared.every((cookie) => cookie.value === '' && cookie.maxAge === 0));
    assert.equal((await h.app.inject({ url: '/api/v1/me', headers: bearer(tokens) })).statusCode, 401);
  } finally {
    await h.close();
  }
});

test('cookies: an expired access cookie is rotated transparently; cookies never authorise API writes', async () => {
  const h = await startAuthHarness();
  try {
    const tokens = await registered(h, 'rotate@example.test');
    const session = `tp_access=${tokens.accessToken}; tp_refresh=${tokens.refreshToken}`;
    const apiWrite = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/enroll',
      headers: { cookie: session },
    });
    assertErrorShape(apiWrite, 401, 'TP_ERR_UNAUTHENTICATED');
    assert.equal(
      (await h.app.inject({ url: '/api/v1/me', headers: { cookie: session } })).statusCode,
      200,
      'API reads may use the cookie',
    );

    h.clock.advance(16 * 60_000);
    const [first, second] = await Promise.all([
      h.app.inject({ url: '/auth/logout', headers: { cookie: session } }),
      h.app.inject({ url: '/api/v1/me', headers: { cookie: session } }),
    ]);
    assert.equal(first.statusCode, 200);
    assert.equal(second.statusCode, 200, 'parallel requests share one rotation instead of tripping reuse detection');
    const access = first.cookies.find((cookie) => cookie.name === 'tp_access')!;
    const refresh = first.cookies.find((cookie) => cookie.name === 'tp_refresh')!;
    assert.ok(access.httpOnly && refresh.httpOnly);
    assert.equal(access.sameSite, 'Lax');
    assert.notEqual(refresh.value, tokens.refreshToken);
    const next = await h.app.inject({ url: '/api/v1/me', headers: { cookie: `tp_access=${access.value}` } });
    assert.equal(next.statusCode, 200);

    const dead = await h.app.inject({
      url: '/auth/logout',
      headers: { cookie: 'tp_access=junk; tp_refresh=also-junk-but-long-enough' },
    });
    assert.equal(dead.statusCode, 401);
    assert.ok(
      dead.cookies.some((cookie) => cookie.name === 'tp_refresh' && cookie.value === ''),
      'a dead session is cleared',
    );
  } finally {
    await h.close();
  }
});

test('brute force against one account backs off the guessing address, with the same answer for unknown accounts', async () => {
  const h = await startAuthHarness({
    overrides: { auth: { lockout: { freeAttempts: 3, baseDelaySeconds: 2, maxDelaySeconds: 60 } } },
  });
  try {
    await registered(h, 'victim@example.test');
    const transcript = async (email: string) => {
      const answers: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const response = await postJson(h.app, '/api/v1/auth/login', { email, password: 'wrong password guess' });
        const body = response.json() as { error: { code: string; message: string } };
        answers.push(`${response.statusCode} ${body.error.code} ${body.error.message}`);
      }
      return answers;
    };
    const known = await transcript('victim@example.test');
    const unknown = await transcript('ghost@example.test');
    assert.deepEqual(unknown, known, 'a lockout tells nothing about whether the account exists');
    assert.match(known[0]!, /^401 TP_ERR_INVALID_CREDENTIALS/);
    assert.match(known[3]!, /^429 TP_ERR_LOCKED_OUT/);

    const rightButLocked = await postJson(h.app, '/api/v1/auth/login', {
      email: 'victim@example.test',
      password: TEST_PASSWORD,
    });
    assertErrorShape(rightButLocked, 429, 'TP_ERR_LOCKED_OUT');
    assert.equal(rightButLocked.json().error.details.retryAfterSeconds, 2);

    h.clock.advance(2_000);
    assert.equal(
      (await postJson(h.app, '/api/v1/auth/login', { email: 'victim@example.test', password: 'still wrong guess' }))
        .statusCode,
      401,
    );
    const longer = await postJson(h.app, '/api/v1/auth/login', {
      email: 'victim@example.test',
      password: TEST_PASSWORD,
    });
    assert.equal(longer.json().error.details.retryAfterSeconds, 4, 'each further failure doubles the wait');
    h.clock.advance(4_000);
    assert.equal(
      (await postJson(h.app, '/api/v1/auth/login', { email: 'victim@example.test', password: TEST_PASSWORD }))
        .statusCode,
      200,
    );
    assert.ok(
      Number(
        await h.metrics.loginOutcomes.get().then((m) => m.values.find((v) => v.labels.outcome === 'locked_out')?.value),
      ) > 0,
    );
  } finally {
    await h.close();
  }
});

test('brute force from one address locks that address out, not others', async () => {
  const h = await startAuthHarness({
    overrides: { auth: { lockout: { perAddressFreeAttempts: 4, freeAttempts: 10 } } },
  });
  try {
    await registered(h, 'someone@example.test');
    const from = (remoteAddress: string, email: string, password: string) =>
      h.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { email, password } });
    for (let i = 0; i < 4; i += 1) {
      assert.equal((await from('10.9.9.9', `spray${i}@example.test`, 'wrong password guess')).statusCode, 401);
    }
    assertErrorShape(await from('10.9.9.9', 'someone@example.test', TEST_PASSWORD), 429, 'TP_ERR_LOCKED_OUT');
    assert.equal((await from('10.1.1.1', 'someone@example.test', TEST_PASSWORD)).statusCode, 200);
  } finally {
    await h.close();
  }
});

test('logs are JSON with request ids and never carry passwords, tokens or cookies', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const h = await startAuthHarness({ logger: createLogger({ level: 'trace', destination: sink }) });
  try {
    const tokens = await registered(h, 'logs@example.test');
    const login = await postJson(h.app, '/api/v1/auth/login', { email: 'logs@example.test', password: TEST_PASSWORD });
    const refreshed = (
      await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: tokens.refreshToken })
    ).json() as TokenPair;
    await postJson(h.app, '/api/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    await h.app.inject({
      url: '/api/v1/me',
      headers: { ...bearer(refreshed), cookie: `tp_refresh=${refreshed.refreshToken}` },
    });
    await postJson(h.app, '/api/v1/auth/login', { email: 'logs@example.test', password: 'a wrong password' });
    await h.auth.accounts.settled();
    const output = lines.join('');
    assert.ok(lines.length > 5, 'something was logged');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(
      parsed.some((record) => typeof record.reqId === 'string'),
      'request ids in logs',
    );
    for (const secret of [
      TEST_PASSWORD,
      'a wrong password',
      tokens.accessToken,
      tokens.refreshToken,
      refreshed.accessToken,
      refreshed.refreshToken,
      login.json().tokens.accessToken,
    ]) {
      assert.ok(!output.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 12)}…`);
    }
  } finally {
    await h.close();
  }
});

test('auth routes have a tighter rate limit than the rest of the portal', async () => {
  const h = await startAuthHarness({ overrides: { portal: { rateLimitPerMinute: 100, authRateLimitPerMinute: 3 } } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await postJson(h.app, '/api/v1/auth/password-reset', { email: 'who@example.test' })).statusCode);
    }
    assert.deepEqual(statuses, [202, 202, 202, 429]);
    const limited = await postJson(h.app, '/api/v1/auth/password-reset', { email: 'who@example.test' });
    assertErrorShape(limited, 429, 'TP_ERR_RATE_LIMITED');
    assert.ok(limited.headers['retry-after']);
    assert.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200, 'other routes keep the global limit');
    const logout = await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout' });
    assert.equal(logout.statusCode, 200, 'a logout without a body is fine');
  } finally {
    await h.close();
  }
});
