import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createAccountService } from '../../appliance/accounts/account-service.js';
import { totpCode } from '../../appliance/accounts/totp.js';
import { createLogger } from '../../shared/logger.js';
import { createMetrics } from '../../appliance/metrics.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { postJson, signedInAs, startAuthHarness, TEST_PASSWORD, type AuthHarness } from '../auth/auth-test-harness.js';

/** A logger at `trace` whose every line is kept, so a test can search the whole log. */
function capturedLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), text: () => lines.join('') };
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

function linkIn(h: AuthHarness, to: string, subject: RegExp): URL {
  const mail = [...h.mail.sent].reverse().find((message) => message.to === to && subject.test(message.subject));
  assert.ok(mail, `a mail to ${to} matching ${subject}`);
  return new URL(/https?:\/\/\S+/.exec(mail.text)![0]);
}

/** Opens an emailed link as a browser does: the link, its redirect, then the form's POST. */
async function followLink(h: AuthHarness, link: URL, fields: string) {
  const opened = await h.app.inject({ url: link.pathname + link.search });
  assert.equal(opened.statusCode, 303, opened.body);
  const carried = opened.cookies.find((cookie) => cookie.name === 'tp_link')!;
  const page = await h.app.inject({ url: opened.headers.location as string, cookies: { tp_link: carried.value } });
  assert.equal(page.statusCode, 200);
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  return h.app.inject({ method: 'POST', url: link.pathname, headers: form, payload: `token=${token}&${fields}` });
}

test('no mail flow writes its token to the log: requests are logged by route with secrets redacted', async () => {
  const log = capturedLog();
  const h = await startAuthHarness({ logger: log.logger });
  try {
    const email = 'logged@example.test';
    assert.equal((await postJson(h.app, '/api/v1/auth/register', { email, password: TEST_PASSWORD })).statusCode, 202);
    await h.auth.accounts.settled();
    const verify = linkIn(h, email, /Confirm/);
    assert.equal((await followLink(h, verify, '')).statusCode, 200);

    await postJson(h.app, '/api/v1/auth/password-reset', { email });
    await h.auth.accounts.settled();
    const reset = linkIn(h, email, /Reset/);
    const changed = await followLink(h, reset, `password=${encodeURIComponent('a page-chosen passphrase')}`);
    assert.equal(changed.statusCode, 200);

    await postJson(h.app, '/api/v1/auth/password-reset', { email });
    await h.auth.accounts.settled();
    const viaApi = linkIn(h, email, /Reset/);
    const confirmed = await postJson(h.app, '/api/v1/auth/password-reset/confirm', {
      token: viaApi.searchParams.get('token'),
      password: 'an api-chosen passphrase',
    });
    assert.equal(confirmed.statusCode, 200);

    const text = log.text();
    for (const link of [verify, reset, viaApi]) {
      const token = link.searchParams.get('token')!;
      assert.ok(text.length > 0 && !text.includes(token), `the log never holds the token of ${link.pathname}`);
    }
    assert.match(text, /"route":"\/auth\/reset-password","query":\{"token":"\[redacted\]"\}/);
  } finally {
    await h.close();
  }
});

test('NAS hand-off credentials in a query are redacted too', async () => {
  const log = capturedLog();
  const h = await startAuthHarness({ logger: log.logger });
  try {
    await h.app.inject({ url: '/nowhere?challenge=0123456789abcdef&response=feedface&password=hunter22&lang=de' });
    const text = log.text();
    for (const secret of ['0123456789abcdef', 'feedface', 'hunter22']) assert.ok(!text.includes(secret), secret);
    assert.match(text, /"lang":"de"/, 'harmless parameters stay readable');
  } finally {
    await h.close();
  }
});

test('only the newest reset link works, and a completed reset or password change voids every other', async () => {
  const h = await startAuthHarness({ overrides: { auth: { accountMailsPerHour: 20 } } });
  try {
    const guest = await signedInAs(h, 'guest', 'reset-many@example.test');
    const tokens: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await postJson(h.app, '/api/v1/auth/password-reset', { email: guest.email });
      await h.auth.accounts.settled();
      tokens.push(h.mail.lastTokenTo(guest.email)!);
    }
    const confirm = (token: string, password: string) =>
      postJson(h.app, '/api/v1/auth/password-reset/confirm', { token, password });
    assert.equal((await confirm(tokens[0]!, 'first link passphrase')).statusCode, 401, 'a newer request voids #1');
    assert.equal((await confirm(tokens[2]!, 'third link passphrase')).statusCode, 401, 'and #3');
    assert.equal((await confirm(tokens[4]!, 'newest link passphrase')).statusCode, 200);
    assert.equal((await confirm(tokens[4]!, 'again the passphrase')).statusCode, 401);

    await postJson(h.app, '/api/v1/auth/password-reset', { email: guest.email });
    await h.auth.accounts.settled();
    const outstanding = h.mail.lastTokenTo(guest.email)!;
    const login = await postJson(h.app, '/api/v1/auth/login', {
      email: guest.email,
      password: 'newest link passphrase',
    });
    const changed = await h.app.inject({
      method: 'PATCH',
      url: '/api/v1/me/password',
      headers: { authorization: `Bearer ${login.json().tokens.accessToken}` },
      payload: { currentPassword: 'newest link passphrase', newPassword: 'changed by the owner 1' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(
      (await confirm(outstanding, 'attacker chosen passphrase')).statusCode,
      401,
      'a password change voids the reset link mailed before it',
    );
  } finally {
    await h.close();
  }
});

test('registration answers a taken address like a new one, as fast, and mails the owner instead', async () => {
  const h = await startAuthHarness({ overrides: { auth: { accountMailsPerHour: 100 } } });
  try {
    await signedInAs(h, 'guest', 'owner@example.test');
    const register = async (email: string) => {
      const started = process.hrtime.bigint();
      const response = await postJson(h.app, '/api/v1/auth/register', { email, password: 'a stranger passphrase' });
      return { response, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    };
    const fresh = await register('first-new@example.test');
    const taken = await register('owner@example.test');
    assert.equal(taken.response.statusCode, fresh.response.statusCode);
    assert.equal(taken.response.body, fresh.response.body);

    const newTimes: number[] = [];
    const takenTimes: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      newTimes.push((await register(`new-${i}@example.test`)).ms);
      takenTimes.push((await register('owner@example.test')).ms);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    const [a, b] = [median(newTimes), median(takenTimes)];
    assert.ok(Math.abs(a - b) < Math.max(a, b) * 0.5, `new ${a.toFixed(1)} ms, taken ${b.toFixed(1)} ms`);

    await h.auth.accounts.settled();
    const toOwner = h.mail.sent.filter((message) => message.to === 'owner@example.test');
    assert.ok(toOwner.length > 0 && toOwner.every((message) => /tried to register/.test(message.subject)));
    const stranger = await postJson(h.app, '/api/v1/auth/login', {
      email: 'owner@example.test',
      password: 'a stranger passphrase',
    });
    assert.equal(stranger.statusCode, 401, 'the stranger did not get the account');
  } finally {
    await h.close();
  }
});

test('one mfaToken buys one session: it cannot be replayed, raced, or outlive a newer sign-in', async () => {
  const h = await startAuthHarness();
  try {
    const staff = await signedInAs(h, 'operator');
    const signIn = async () =>
      (await postJson(h.app, '/api/v1/auth/login', { email: staff.email, password: TEST_PASSWORD })).json()
        .mfaToken as string;
    const mfaToken = await signIn();
    const first = await postJson(h.app, '/api/v1/auth/mfa', {
      mfaToken,
      code: totpCode(staff.totpSecret!, h.clock.now()),
    });
    assert.equal(first.statusCode, 200);
    h.clock.advance(30_000);
    const again = await postJson(h.app, '/api/v1/auth/mfa', {
      mfaToken,
      code: totpCode(staff.totpSecret!, h.clock.now()),
    });
    assert.equal(again.statusCode, 401);
    assert.equal(again.json().error.code, 'TP_ERR_TOKEN_INVALID');

    h.clock.advance(30_000);
    const raced = await signIn();
    const code = totpCode(staff.totpSecret!, h.clock.now());
    const codes = h.store.db.users[staff.userId]!.mfa!.recoveryCodeHashes.length;
    assert.ok(codes > 0);
    const both = await Promise.all([
      postJson(h.app, '/api/v1/auth/mfa', { mfaToken: raced, code }),
      postJson(h.app, '/api/v1/auth/mfa', { mfaToken: raced, code }),
    ]);
    assert.deepEqual(both.map((response) => response.statusCode).sort(), [200, 401]);

    h.clock.advance(30_000);
    const older = await signIn();
    await signIn();
    const superseded = await postJson(h.app, '/api/v1/auth/mfa', {
      mfaToken: older,
      code: totpCode(staff.totpSecret!, h.clock.now()),
    });
    assert.equal(superseded.json().error.code, 'TP_ERR_TOKEN_INVALID', 'a newer sign-in voids the older token');
  } finally {
    await h.close();
  }
});

test('failing passwords from one address never lock the owner out, and many failures raise an alert', async () => {
  const h = await startAuthHarness({
    overrides: { auth: { lockout: { freeAttempts: 5, perAddressFreeAttempts: 20, alertFailures: 10 } } },
  });
  try {
    const admin = await signedInAs(h, 'admin', 'first-admin@example.test');
    const login = (password: string, remoteAddress: string, email = admin.email) =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password },
        remoteAddress,
      });
    for (let i = 0; i < 8; i += 1) await login('wrong guess', '198.51.100.66');
    const attacker = await login(TEST_PASSWORD, '198.51.100.66');
    assert.equal(attacker.statusCode, 429, 'the failing address waits, even with the right password');
    assert.equal(attacker.json().error.code, 'TP_ERR_LOCKED_OUT');
    const owner = await login(TEST_PASSWORD, '203.0.113.10');
    assert.equal(owner.statusCode, 200, 'the owner, from an address that was not failing, signs in');
    assert.equal(owner.json().status, 'mfa_required');

    // Another appliance on the same store refuses the failing address too.
    const other = await createAccountService({
      store: h.store,
      clock: h.clock,
      config: h.config,
      mail: h.mail,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
    });
    try {
      await assert.rejects(
        other.flows.login({ email: admin.email, password: TEST_PASSWORD }, { ip: '198.51.100.66' }),
        (err) => isTurnpikeError(err, 'TP_ERR_LOCKED_OUT'),
      );
    } finally {
      await other.close();
    }

    // Failures spread over many addresses: each address is below its limit; the account raises an alert.
    for (let i = 0; i < 6; i += 1) await login('spread guess', `192.0.2.${i + 1}`);
    const metrics = await h.metrics.registry.getSingleMetricAsString('turnpike_login_alerts_total');
    assert.match(metrics, /turnpike_login_alerts_total 1$/m);
    const audit = await h.store.history('audit').readAll();
    assert.equal(audit.filter((record) => record.action === 'login.alert').length, 1);
    assert.equal((await login(TEST_PASSWORD, '203.0.113.11')).statusCode, 200, 'an alert is no lock');

    // One address trying many accounts is slowed on every account.
    for (let i = 0; i < 20; i += 1) await login('sprayed password', '198.51.100.99', `sprayed-${i}@example.test`);
    const sprayer = await login('sprayed password', '198.51.100.99', 'one-more@example.test');
    assert.equal(sprayer.statusCode, 429);
  } finally {
    await h.close();
  }
});

test('reset mails to one address are limited per hour; the answer stays the same', async () => {
  const h = await startAuthHarness();
  try {
    const guest = await signedInAs(h, 'guest', 'mailbox@example.test');
    const answers = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const response = await postJson(h.app, '/api/v1/auth/password-reset', { email: guest.email });
      answers.add(`${response.statusCode} ${response.body}`);
    }
    await h.auth.accounts.settled();
    const resets = () => h.mail.sent.filter((message) => message.to === guest.email && /Reset/.test(message.subject));
    assert.equal(answers.size, 1);
    assert.equal(resets().length, 3, 'auth.accountMailsPerHour (3) mails, not five');
    h.clock.advance(60 * 60_000 + 1);
    await postJson(h.app, '/api/v1/auth/password-reset', { email: guest.email });
    await h.auth.accounts.settled();
    assert.equal(resets().length, 4, 'an hour later one more goes out');
  } finally {
    await h.close();
  }
});
