import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { totpCode } from '../../appliance/accounts/totp.js';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { startAuthHarness, bearer, signedInAs, type AuthHarness } from '../auth/auth-test-harness.js';
import { FormClient } from '../testing/form-client.js';
import { consoleStaff, secretOnPage } from './console-test-kit.js';

async function withConsole(run: (h: AuthHarness) => Promise<void>): Promise<void> {
  const h = await startAuthHarness({ withGuestJourney: true });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

test('the first admin signs in with the one-time password, chooses a password, enrols TOTP and reaches the dashboard', async () => {
  await withConsole(async (h) => {
    const first = (await h.auth.accounts.users.ensureFirstAdmin())!;
    const browser = new FormClient(h.app);
    const dashboard = await browser.get('/admin');
    assert.equal(dashboard.statusCode, 303);
    assert.equal(dashboard.headers.location, '/admin/login?next=%2Fadmin');
    await browser.get('/admin/login');
    const login = await browser.post('/admin/login', { email: first.email, password: first.oneTimePassword });
    assert.equal(login.headers.location, '/admin/setup');
    for (const cookie of login.headers['set-cookie'] as string[]) {
      if (/^tp_(access|refresh|staff_seen)=/.test(cookie)) {
        assert.match(cookie, /HttpOnly/);
        assert.match(cookie, /SameSite=(Lax|Strict)/);
      }
    }
    assert.equal((await browser.get('/admin')).headers.location, '/admin/setup', 'no console before the setup');
    assert.equal((await browser.get('/admin/setup')).headers.location, '/admin/setup/password');
    await browser.get('/admin/setup/password');
    const weak = await browser.post('/admin/setup/password', {
      currentPassword: first.oneTimePassword,
      newPassword: 'password',
    });
    assert.equal(weak.statusCode, 400, 'a weak password is refused on the page');
    const changed = await browser.post('/admin/setup/password', {
      currentPassword: first.oneTimePassword,
      newPassword: 'Lantern-Orchard-Quiet-19',
    });
    assert.equal(changed.headers.location, '/admin/setup');
    assert.equal((await browser.get('/admin/setup')).headers.location, '/admin/setup/mfa');
    const enrol = await browser.get('/admin/setup/mfa');
    assert.match(enrol.body, /<svg[^>]*>/, 'the QR code is an SVG drawn by the box');
    const secret = secretOnPage(enrol.body);
    const wrong = await browser.post('/admin/setup/mfa', { code: '000000' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(secretOnPage(wrong.body), secret, 'a wrong code keeps the secret being enrolled');
    const confirmed = await browser.post('/admin/setup/mfa', { code: totpCode(secret, h.clock.now()) });
    assert.equal(confirmed.statusCode, 200);
    const codes = [...confirmed.body.matchAll(/<li>([a-z0-9]{5}-[a-z0-9]{5})<\/li>/g)].map((m) => m[1]);
    assert.equal(codes.length, 10, 'ten recovery codes, shown once');
    const home = await browser.get('/admin');
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /Live sessions/);
    assert.match(home.body, /System health/);
    assert.match(home.body, /of [\d.]+ [KMGT]?B on \/[^<]*</, 'the data disk card names its size and mount point');

    // Next time: password, then a code from the app (or a recovery code).
    await browser.post('/admin/logout', {});
    assert.equal((await browser.get('/admin')).statusCode, 303, 'signed out');
    h.clock.advance(30_000);
    await browser.get('/admin/login');
    const again = await browser.post('/admin/login', { email: first.email, password: 'Lantern-Orchard-Quiet-19' });
    assert.equal(again.headers.location, '/admin/login/code?next=%2Fadmin');
    await browser.get('/admin/login/code');
    const viaRecovery = await browser.post('/admin/login/code', { recoveryCode: codes[0]! });
    assert.equal(viaRecovery.headers.location, '/admin');
    assert.equal((await browser.get('/admin')).statusCode, 200);
  });
});

test('an operator gets a clear 403 page on admin pages and a guest gets one on every console page', async () => {
  await withConsole(async (h) => {
    const operator = await consoleStaff(h, 'operator');
    for (const url of ['/admin', '/admin/sessions', '/admin/people', '/admin/vouchers']) {
      assert.equal((await operator.browser.get(url)).statusCode, 200, `${url} is the front desk's`);
    }
    for (const url of ['/admin/plans', '/admin/nas', '/admin/audit', '/admin/plans/new']) {
      const page = await operator.browser.get(url);
      assert.equal(page.statusCode, 403, url);
      assert.match(page.body, /Not for your role/);
      assert.match(page.body, /Your role \(operator\) does not open this page/);
    }
    const nav = (await operator.browser.get('/admin')).body;
    assert.doesNotMatch(nav, /href="\/admin\/plans"/, 'the nav shows an operator only their pages');
    const refused = await operator.browser.post('/admin/plans', { name: 'Sneaky' });
    assert.equal(refused.statusCode, 403);

    const guest = await signedInAs(h, 'guest');
    const asGuest = await h.app.inject({
      url: '/admin/sessions',
      cookies: { tp_access: guest.tokens.accessToken },
    });
    assert.equal(asGuest.statusCode, 403);
  });
});

test('a console form without its CSRF token is refused', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    const noToken = await admin.browser.post('/admin/nas', { name: 'lobby', source: '10.9.0.1' }, { withCsrf: false });
    assert.equal(noToken.statusCode, 403);
    assert.match(noToken.body, /The form has expired/);
    assert.equal(Object.keys(h.store.db.nasClients).length, 0);
    const signIn = await new FormClient(h.app).post(
      '/admin/login',
      { email: admin.email, password: 'x' },
      {
        withCsrf: false,
      },
    );
    assert.equal(signIn.statusCode, 403, 'even the sign-in form');
  });
});

test('idle staff are signed out; "sign out everywhere" ends every session of the account', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    h.clock.advance((h.config.auth.staffIdleTimeoutSeconds + 1) * 1000);
    const idle = await admin.browser.get('/admin/sessions');
    assert.equal(idle.headers.location, '/admin/login?idle=1');
    assert.match((await admin.browser.get('/admin/login?idle=1')).body, /without activity/);
    assert.equal((await admin.browser.get('/admin')).statusCode, 303, 'the session is gone');

    const laptop = await consoleStaff(h, 'admin');
    const phone = new FormClient(h.app);
    await phone.get('/admin/login');
    await phone.post('/admin/login', { email: laptop.email, password: 'Harbour-Lights-Evening-77' });
    h.clock.advance(30_000);
    await phone.post('/admin/login/code', { code: totpCode(laptop.secret, h.clock.now()) });
    assert.equal((await phone.get('/admin')).statusCode, 200);
    await laptop.browser.get('/admin');
    const out = await laptop.browser.post('/admin/logout-everywhere', {});
    assert.equal(out.headers.location, '/admin/login?out=all');
    h.clock.advance(1000);
    assert.equal((await phone.get('/admin')).statusCode, 303, 'the other browser is signed out too');
  });
});

test('sessions: search, a session page, kick and extend, each written to the audit log', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    const plan = await createPlan(h.store, h.clock, { name: 'Day pass', durationSeconds: 86_400 });
    const nas = await addNasClient(h.store, h.clock, { name: 'lobby', source: '10.0.0.1' });
    const guest = await h.auth.accounts.users.createUser({ email: 'ada@example.test', role: 'guest' }, null);
    const subscription = await grantSubscription(h.store, h.clock, {
      userId: guest.user.id,
      voucherCode: null,
      plan,
      source: 'staff-grant',
      sourceRef: null,
    });
    const now = h.clock.now();
    const sessionId = randomUUID();
    await h.store.update((db) => {
      db.sessions[sessionId] = {
        id: sessionId,
        subscriptionId: subscription.id,
        ownerKey: `user:${guest.user.id}`,
        nasId: nas.id,
        acctSessionId: 'a1',
        mode: 'controller',
        mac: 'aa:bb:cc:dd:ee:01',
        ip: '10.1.0.7',
        startedAt: now,
        lastUpdateAt: now,
        interimIntervalSeconds: 300,
        inputOctets: 1000,
        outputOctets: 5_000_000,
        chargedOctets: 0,
        disconnectPendingSince: null,
      };
    });
    for (const q of ['ada@', 'AA:BB', '10.1.0', 'lobby']) {
      assert.match(
        (await admin.browser.get(`/admin/sessions?q=${encodeURIComponent(q)}`)).body,
        /ada@example\.test/,
        q,
      );
    }
    assert.match((await admin.browser.get('/admin/sessions?q=nobody')).body, /No live session matches/);
    const page = await admin.browser.get(`/admin/sessions/${sessionId}`);
    assert.match(page.body, /aa:bb:cc:dd:ee:01/);
    const extended = await admin.browser.post(`/admin/sessions/${sessionId}/extend`, { minutes: '60' });
    assert.match(extended.body, /Time added/);
    assert.equal(h.store.db.subscriptions[subscription.id]!.endsAt, subscription.endsAt! + 3_600_000);
    const kicked = await admin.browser.post(`/admin/sessions/${sessionId}/kick`, {});
    assert.match(kicked.body, /disconnect the session: ack/);
    const timeline = (await admin.browser.get(`/admin/sessions/${sessionId}`)).body;
    assert.match(timeline, /Session started/);
    assert.match(
      timeline,
      /Staff action<\/td><td class="mono">subscription\.extended/,
      'the timeline names staff actions',
    );
    assert.match(timeline, /Staff action<\/td><td class="mono">session\.kicked/);
    const audit = await admin.browser.get('/admin/audit?action=session');
    assert.match(audit.body, /session\.kicked/);
    assert.match(audit.body, new RegExp(admin.email.replace('.', '\\.')));
    const person = await admin.browser.get(`/admin/people/${guest.user.id}`);
    assert.match(person.body, /Day pass/);
  });
});

test('plans, voucher batches (sheet, CSV safe from formulas, revoke) and NAS clients from the console', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    await admin.browser.get('/admin/plans/new');
    const created = await admin.browser.post('/admin/plans', {
      name: '+Hour',
      durationMinutes: '60',
      priceMinor: '300',
      currency: 'EUR',
      maxDevices: '2',
      visible: 'on',
    });
    assert.match(created.body, /Plan created/);
    const plan = Object.values(h.store.db.plans).find((p) => p.name === '+Hour')!;
    assert.equal(plan.durationSeconds, 3600);
    const batchPage = await admin.browser.post('/admin/vouchers', {
      planId: plan.id,
      count: '3',
      note: '=HYPERLINK("http://evil.test","x")',
      validDays: '30',
    });
    assert.match(batchPage.body, /Batch created/);
    const batch = Object.values(h.store.db.voucherBatches)[0]!;
    const sheet = await admin.browser.get(`/api/v1/voucher-batches/${batch.id}/sheet`);
    assert.equal(sheet.statusCode, 200, 'the print sheet opens with the console cookie');
    const csv = await admin.browser.get(`/admin/vouchers/${batch.id}/csv`);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    assert.equal(lines.length, 4);
    for (const line of lines.slice(1)) {
      assert.match(line, /,'\+Hour,/, 'a plan name starting with + is not a formula');
      assert.match(line, /"'=HYPERLINK\(""http:\/\/evil\.test"",""x""\)"$/, 'nor is a note starting with =');
    }
    const code = Object.values(h.store.db.vouchers)[0]!.code;
    await admin.browser.post(`/admin/vouchers/${batch.id}/revoke-code`, { code });
    assert.notEqual(h.store.db.vouchers[code]!.revokedAt, null);
    await admin.browser.post(`/admin/vouchers/${batch.id}/revoke`, {});
    assert.notEqual(h.store.db.voucherBatches[batch.id]!.revokedAt, null);
    const retired = await admin.browser.post(`/admin/plans/${plan.id}/retire`, {});
    assert.match(retired.body, /The plan is retired/);

    await admin.browser.get('/admin/nas');
    const added = await admin.browser.post('/admin/nas', {
      name: 'lobby',
      source: '10.0.0.0/24',
      dialect: 'mikrotik',
      coaPort: '3799',
      requireMessageAuthenticator: 'on',
    });
    const nas = Object.values(h.store.db.nasClients)[0]!;
    assert.match(added.body, new RegExp(`id="nas-secret">${nas.secret}<`), 'the generated secret is shown once');
    assert.doesNotMatch((await admin.browser.get('/admin/nas')).body, new RegExp(nas.secret), 'and never again');
    await admin.browser.get(`/admin/nas/${nas.id}`);
    const edited = await admin.browser.post(`/admin/nas/${nas.id}`, {
      name: 'lobby-2',
      source: '10.0.0.0/24',
      dialect: 'coovachilli',
      coaPort: '1700',
      secret: 'a-new-shared-secret',
    });
    assert.match(edited.body, /Saved\./);
    assert.deepEqual(
      (({ name, dialect, coaPort, secret, requireMessageAuthenticator }) => ({
        name,
        dialect,
        coaPort,
        secret,
        requireMessageAuthenticator,
      }))(h.store.db.nasClients[nas.id]!),
      {
        name: 'lobby-2',
        dialect: 'coovachilli',
        coaPort: 1700,
        secret: 'a-new-shared-secret',
        requireMessageAuthenticator: false,
      },
    );
    await admin.browser.post(`/admin/nas/${nas.id}/remove`, {});
    assert.equal(Object.keys(h.store.db.nasClients).length, 0);
    const audit = (await admin.browser.get('/admin/audit')).body;
    for (const action of [
      'plan.created',
      'voucher_batch.created',
      'voucher.revoked',
      'plan.retired',
      'nas.added',
      'nas.removed',
    ]) {
      assert.match(audit, new RegExp(action.replace('.', '\\.')), action);
    }
  });
});

test('script-bearing names, codes and RADIUS-like values are shown escaped on every console page', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    const evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const plan = await createPlan(h.store, h.clock, { name: `Plan ${evil}`, description: evil });
    const guest = await h.auth.accounts.users.createUser(
      { email: '<script>alert(3)</script>@example.test', role: 'guest', displayName: evil },
      null,
    );
    const subscription = await grantSubscription(h.store, h.clock, {
      userId: guest.user.id,
      voucherCode: null,
      plan,
      source: 'staff-grant',
      sourceRef: evil,
    });
    const sessionId = 'sess-<script>';
    await h.store.update((db) => {
      db.sessions[sessionId] = {
        id: sessionId,
        subscriptionId: subscription.id,
        ownerKey: `user:${guest.user.id}`,
        nasId: null,
        acctSessionId: evil,
        mode: 'gateway',
        mac: evil,
        ip: evil,
        startedAt: h.clock.now(),
        lastUpdateAt: h.clock.now(),
        interimIntervalSeconds: 300,
        inputOctets: 0,
        outputOctets: 0,
        chargedOctets: 0,
        disconnectPendingSince: null,
      };
    });
    await admin.browser.post('/admin/vouchers', { planId: plan.id, count: '1', note: evil });
    await new FormClient(h.app).post('/admin/login', { email: evil, password: 'nope' }, { withCsrf: false });
    await h.auth.accounts.flows.login({ email: evil, password: 'nope' }, { ip: '10.0.0.9' }).catch(() => undefined);
    const batch = Object.values(h.store.db.voucherBatches)[0]!;
    const pages = [
      '/admin',
      `/admin/sessions?q=${encodeURIComponent(evil)}`,
      '/admin/sessions',
      `/admin/sessions/${encodeURIComponent(sessionId)}`,
      `/admin/people?q=${encodeURIComponent('<script>')}`,
      `/admin/people/${guest.user.id}`,
      '/admin/plans',
      `/admin/plans/${plan.id}`,
      '/admin/vouchers',
      `/admin/vouchers/${batch.id}`,
      '/admin/nas',
      `/admin/audit?target=${encodeURIComponent(evil)}`,
      '/admin/audit',
      '/admin/payments',
      '/admin/settings',
      '/admin/reports',
    ];
    for (const url of pages) {
      const page = await admin.browser.get(url);
      assert.equal(page.statusCode, 200, url);
      // The only scripts are the box's own chart scripts, loaded by URL: nothing a guest wrote runs.
      assert.doesNotMatch(
        page.body,
        /<script(?! src="\/admin\/assets\/[a-z.-]+\.js" defer><\/script>)/i,
        `${url} carries no script`,
      );
      assert.doesNotMatch(page.body, /<img src=x/i, `${url} carries no injected element`);
    }
    assert.match(
      (await admin.browser.get('/admin/audit')).body,
      /&lt;script&gt;alert\(1\)/,
      'the value is there, escaped',
    );
  });
});

test('settings and branding: an admin edits them with a preview, bad values are refused, the change is audited', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    const page = await admin.browser.get('/admin/settings');
    assert.match(page.body, /Preview of the guest landing/);
    const form = {
      venueName: 'Harbour Café <b>',
      primaryColor: '#123456',
      accentColor: '#abcdef',
      welcome_en: 'Welcome aboard',
      welcome_de: 'Willkommen an Bord',
      terms_en: 'Be nice.',
      terms_de: 'Seien Sie nett.',
      supportContact: 'desk@harbour.test',
      timeZone: 'Europe/Berlin',
      sellerName: 'Harbour GmbH',
      sellerAddress: 'Quay 1',
      taxId: 'DE123',
      taxRatePercent: '19',
    };
    const saved = await admin.browser.post('/admin/settings', form);
    assert.match(saved.body, /Saved\./);
    assert.match(saved.body, /Harbour Café &lt;b&gt;/, 'the preview shows the new name, escaped');
    assert.equal(h.store.db.settings.primaryColor, '#123456');
    assert.equal(h.store.db.settings.seller.taxRatePercent, 19);
    const bad = await admin.browser.post('/admin/settings', { ...form, primaryColor: 'red;background:url(x)' });
    assert.equal(bad.statusCode, 400);
    assert.equal(h.store.db.settings.primaryColor, '#123456', 'nothing written');
    const operator = await consoleStaff(h, 'operator');
    assert.equal((await operator.browser.get('/admin/settings')).statusCode, 403);
    assert.match((await admin.browser.get('/admin/audit?action=settings')).body, /settings\.updated/);
  });
});

test('an admin creates a staff member whose one-time password is shown once and who is walked through setup', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    await admin.browser.get('/admin/people');
    const created = await admin.browser.post('/admin/people', { email: 'night-desk@example.test', role: 'operator' });
    const password = /id="one-time-password">([^<]+)</.exec(created.body)?.[1];
    assert.ok(password, 'the one-time password is on the page');
    assert.doesNotMatch((await admin.browser.get('/admin/people')).body, new RegExp(password), 'and only there');
    const desk = new FormClient(h.app);
    await desk.get('/admin/login');
    const login = await desk.post('/admin/login', { email: 'night-desk@example.test', password });
    assert.equal(login.headers.location, '/admin/setup');
    assert.equal((await desk.get('/admin/setup')).headers.location, '/admin/setup/password');
    const operator = await consoleStaff(h, 'operator');
    assert.equal(
      (await operator.browser.post('/admin/people', { email: 'x@example.test', role: 'admin' })).statusCode,
      403,
    );
  });
});

test('the console speaks German', async () => {
  await withConsole(async (h) => {
    const admin = await consoleStaff(h, 'admin');
    const page = await admin.browser.get('/admin?lang=de');
    assert.match(page.body, /<html lang="de">/);
    assert.match(page.body, /Aktive Sitzungen/);
    assert.match((await admin.browser.get('/admin/sessions')).body, /Sitzungen/, 'the choice sticks');
  });
});

test('/api/v1/nas and /api/v1/audit serve admins over bearer tokens', async () => {
  await withConsole(async (h) => {
    const admin = await signedInAs(h, 'admin');
    const operator = await signedInAs(h, 'operator');
    const added = await h.app.inject({
      method: 'POST',
      url: '/api/v1/nas',
      headers: bearer(admin.tokens),
      payload: { name: 'lobby', source: '10.0.0.1', dialect: 'coovachilli' },
    });
    assert.equal(added.statusCode, 201);
    assert.ok(added.json().secret.length >= 16, 'the secret, once');
    const list = await h.app.inject({ url: '/api/v1/nas', headers: bearer(admin.tokens) });
    assert.equal(list.json().nas[0].name, 'lobby');
    assert.equal(list.json().nas[0].secret, undefined, 'never listed');
    assert.equal((await h.app.inject({ url: '/api/v1/nas', headers: bearer(operator.tokens) })).statusCode, 403);
    const patched = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/nas/${added.json().id}`,
      headers: bearer(admin.tokens),
      payload: { coaPort: 1700, requireMessageAuthenticator: false },
    });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.json().coaPort, 1700);
    assert.equal(patched.json().secret, undefined);
    const removed = await h.app.inject({
      method: 'DELETE',
      url: `/api/v1/nas/${added.json().id}`,
      headers: bearer(admin.tokens),
    });
    assert.equal(removed.statusCode, 204);
    const audit = await h.app.inject({ url: '/api/v1/audit?action=nas', headers: bearer(admin.tokens) });
    assert.deepEqual(
      audit.json().entries.map((entry: { action: string }) => entry.action),
      ['nas.removed', 'nas.updated', 'nas.added'],
    );
    assert.equal(audit.json().entries[0].actorId, admin.userId);
    assert.equal((await h.app.inject({ url: '/api/v1/audit', headers: bearer(operator.tokens) })).statusCode, 403);
  });
});
