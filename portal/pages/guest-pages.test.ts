import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { recordAccounting } from '../../appliance/sessions/accounting.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal, type HarnessOptions } from '../testing/guest-portal-harness.js';

const CHALLENGE = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const SCRIPT = '<script>alert("x")</script>';

async function portalWithCatalogue(t: TestContext, options: HarnessOptions = {}) {
  const h = await startGuestPortal(t, options);
  await addNasClient(h.store, h.clock, { name: 'chilli', source: '10.1.0.1', dialect: 'coovachilli' });
  const free = await createPlan(h.store, h.clock, {
    name: 'Free 30',
    durationSeconds: 1800,
    freeTier: { periodSeconds: 86_400 },
  });
  const hour = await createPlan(h.store, h.clock, {
    name: 'Hour',
    priceMinor: 250,
    durationSeconds: 3600,
    maxDevices: 2,
  });
  const { codes } = await createVoucherBatch(h.store, h.clock, { planId: hour.id, count: 3, createdBy: 'staff' });
  return { h, free, hour, codes };
}

function coovaQuery(mac: string, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    res: 'notyet',
    uamip: '10.1.0.1',
    uamport: '3990',
    challenge: CHALLENGE,
    mac,
    ip: '10.1.0.50',
    ...extra,
  }).toString();
}

test('the landing page lists plans, terms and a voucher field, in the browser language, under 50 KB, with no external resource', async (t) => {
  const { h } = await portalWithCatalogue(t);
  const browser = new FormClient(h.app, { headers: { 'accept-language': 'de-AT,de;q=0.9,en;q=0.5' } });
  const res = await browser.get('/portal');
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /<html lang="de">/);
  assert.match(res.body, /Gutscheincode/);
  assert.match(res.body, /2,50\s€/);
  assert.match(res.body, /Free 30/);
  assert.match(res.body, /Nutzungsbedingungen/);
  assert.ok(Buffer.byteLength(res.body) < 50 * 1024, `${Buffer.byteLength(res.body)} bytes`);
  assert.ok(!/(src|href)="(https?:)?\/\//.test(res.body), 'no external resources');
  assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
  const english = await browser.get('/portal?lang=en');
  assert.match(english.body, /<html lang="en">/);
  assert.equal(browser.cookies.get('tp_lang'), 'en');
  const sticky = await browser.get('/portal/voucher');
  assert.match(sticky.body, /<html lang="en">/, 'the switcher choice beats Accept-Language');
});

test('a forged uamip that is no configured NAS gets a plain-language error page and no hand-off', async (t) => {
  const { h } = await portalWithCatalogue(t);
  const browser = new FormClient(h.app);
  const res = await browser.get(`/portal?${coovaQuery('aa:bb:cc:00:00:01', { uamip: '203.0.113.66' })}`);
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /Open any website to get the login page again/);
  assert.doesNotMatch(res.body, /203\.0\.113\.66/);
  assert.equal(browser.cookies.has('tp_nas'), false);
});

test('a voucher sends the guest to the NAS logon URL; javascript: in userurl is dropped; the code cannot be used by a second device', async (t) => {
  const { h, codes } = await portalWithCatalogue(t);
  const phone = new FormClient(h.app);
  await phone.get(`/portal?${coovaQuery('aa:bb:cc:00:00:01', { userurl: 'javascript:alert(document.cookie)' })}`);
  const redeemed = await phone.post('/portal/voucher', { code: codes[0]!, terms: 'yes' });
  assert.equal(redeemed.statusCode, 303, redeemed.body);
  const logon = new URL(String(redeemed.headers.location));
  assert.equal(`${logon.origin}${logon.pathname}`, 'http://10.1.0.1:3990/logon');
  assert.equal(logon.searchParams.get('userurl'), null);
  assert.ok(!String(redeemed.headers.location).includes('javascript'));

  const other = new FormClient(h.app, { remoteAddress: '127.0.0.2' });
  await other.get(`/portal?${coovaQuery('aa:bb:cc:00:00:02')}`);
  const twice = await other.post('/portal/voucher', { code: codes[0]!, terms: 'yes' });
  assert.equal(twice.statusCode, 409);
  assert.match(twice.body, /already been used/);
});

test('terms must be accepted, and a form without its CSRF token is refused with a page', async (t) => {
  const { h, codes } = await portalWithCatalogue(t);
  const browser = new FormClient(h.app);
  await browser.get('/portal');
  const noTerms = await browser.post('/portal/voucher', { code: codes[0]! });
  assert.equal(noTerms.statusCode, 400);
  assert.match(noTerms.body, /accept the terms/);
  const noCsrf = await browser.post('/portal/voucher', { code: codes[0]!, terms: 'yes' }, { withCsrf: false });
  assert.equal(noCsrf.statusCode, 403);
  assert.match(noCsrf.headers['content-type'] as string, /text\/html/);
  assert.equal(h.store.db.vouchers[codes[0]!]!.uses, 0);
});

test('voucher guessing backs off per address and per MAC with Retry-After', async (t) => {
  const { h, codes } = await portalWithCatalogue(t, { guessLimits: { freeFailures: 3, baseDelayMs: 60_000 } });
  const guesser = new FormClient(h.app, { remoteAddress: '10.9.0.1' });
  await guesser.get(`/portal?${coovaQuery('aa:bb:cc:00:00:09')}`);
  for (let i = 0; i < 3; i += 1) {
    const res = await guesser.post('/portal/voucher', { code: `WRONG${i}AAAAA`, terms: 'yes' });
    assert.equal(res.statusCode, 400);
  }
  const blocked = await guesser.post('/portal/voucher', { code: codes[0]!, terms: 'yes' });
  assert.equal(blocked.statusCode, 429, 'even the right code waits out the back-off');
  assert.equal(blocked.headers['retry-after'], '60');
  assert.equal(h.store.db.vouchers[codes[0]!]!.uses, 0);
  // A new address with the same MAC is still held back.
  const moved = new FormClient(h.app, { remoteAddress: '10.9.0.2' });
  await moved.get(`/portal?${coovaQuery('aa:bb:cc:00:00:09')}`);
  assert.equal((await moved.post('/portal/voucher', { code: codes[0]!, terms: 'yes' })).statusCode, 429);
  h.clock.advance(60_000);
  assert.equal((await moved.post('/portal/voucher', { code: codes[0]!, terms: 'yes' })).statusCode, 303);
});

test('the route rate limit stops a flood of voucher posts from one address', async (t) => {
  const { h } = await portalWithCatalogue(t, { voucherRateLimitPerMinute: 5, guessLimits: { freeFailures: 1000 } });
  const flood = new FormClient(h.app, { remoteAddress: '10.9.9.9' });
  await flood.get('/portal/voucher');
  const statuses: number[] = [];
  for (let i = 0; i < 7; i += 1)
    statuses.push((await flood.post('/portal/voucher', { code: 'AAAAAAAAAA', terms: 'yes' })).statusCode);
  assert.ok(statuses.includes(429), statuses.join(','));
});

test('script typed into every text field, and in operator texts, comes back escaped', async (t) => {
  const { h } = await portalWithCatalogue(t);
  await createPlan(h.store, h.clock, { name: `Evil ${SCRIPT}`, description: SCRIPT, priceMinor: 100 });
  await h.store.update((db) => {
    db.settings.venueName = SCRIPT;
    db.settings.welcomeText = { en: SCRIPT };
    db.settings.termsText = { en: SCRIPT };
    db.settings.supportContact = SCRIPT;
  });
  const browser = new FormClient(h.app);
  const pages = [await browser.get('/portal'), await browser.get('/portal/signup'), await browser.get('/portal/free')];
  pages.push(await browser.post('/portal/voucher', { code: SCRIPT, terms: 'yes' }));
  pages.push(
    await browser.post('/portal/signup', { email: SCRIPT, password: SCRIPT, displayName: SCRIPT, terms: 'yes' }),
  );
  pages.push(await browser.post('/portal/login', { email: SCRIPT, password: 'x' }));
  for (const page of pages) {
    assert.ok(!page.body.includes('<script>'), `unescaped script in ${page.raw.req.url}: ${page.statusCode}`);
  }
  assert.match(pages[0]!.body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
});

test('a tampered device cookie is ignored: it cannot claim another guest’s device', async (t) => {
  const { h, codes } = await portalWithCatalogue(t);
  const owner = new FormClient(h.app);
  await owner.get(`/portal?${coovaQuery('aa:bb:cc:00:00:01')}`);
  await owner.post('/portal/voucher', { code: codes[0]!, terms: 'yes' });
  const victimDevice = Object.values(h.store.db.devices)[0]!;
  assert.equal(victimDevice.mac, 'aa:bb:cc:00:00:01');

  const attacker = new FormClient(h.app, { remoteAddress: '127.0.0.3' });
  await attacker.get(`/portal?${coovaQuery('aa:bb:cc:00:00:66')}`);
  attacker.cookies.set('tp_device', `${victimDevice.id}.forgedSignature`);
  attacker.cookies.set('tp_voucher', `${codes[0]}.forgedSignature`);
  const res = await attacker.post('/portal/voucher', { code: codes[0]!, terms: 'yes' });
  assert.equal(res.statusCode, 409, 'the forged cookie did not make the attacker the same device');
  assert.equal(h.store.db.devices[victimDevice.id]!.mac, 'aa:bb:cc:00:00:01', 'the victim keeps its binding');
  const status = await attacker.get('/portal/status');
  assert.ok(!status.body.includes('aa:bb:cc:00:00:01'), 'the forged voucher cookie reveals nothing');
});

test('the account page changes the password and lists devices; strangers are sent to log in', async (t) => {
  const { h } = await portalWithCatalogue(t);
  const stranger = await new FormClient(h.app).get('/portal/account');
  assert.equal(stranger.statusCode, 303);
  assert.equal(stranger.headers.location, '/portal/login');

  const guest = new FormClient(h.app);
  await guest.get('/portal/signup');
  const signedUp = await guest.post('/portal/signup', {
    email: 'kim@example.test',
    password: 'Orchid-Harbour-77',
    terms: 'yes',
  });
  assert.equal(signedUp.statusCode, 303);
  const account = await guest.get('/portal/account');
  assert.equal(account.statusCode, 200);
  assert.match(account.body, /kim@example\.test/);
  const wrong = await guest.post('/portal/account/password', {
    currentPassword: 'nope',
    newPassword: 'Another-Long-Phrase-1',
  });
  assert.equal(wrong.statusCode, 401);
  assert.match(wrong.body, /current password is wrong/);
  const changed = await guest.post('/portal/account/password', {
    currentPassword: 'Orchid-Harbour-77',
    newPassword: 'Another-Long-Phrase-1',
  });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.match(changed.body, /Your password has been changed/);
  const login = await h.accounts.flows.login(
    { email: 'kim@example.test', password: 'Another-Long-Phrase-1' },
    { ip: null },
  );
  assert.equal(login.status, 'ok');
});

test('the stranger’s landing page is assembled from a cache that every store write refreshes, with a fresh CSRF field each time', async (t) => {
  const { h } = await portalWithCatalogue(t);
  const first = await new FormClient(h.app).get('/portal');
  assert.ok(!first.body.includes('Weekend pass'));
  await createPlan(h.store, h.clock, { name: 'Weekend pass', priceMinor: 900, durationSeconds: 172_800 });
  const browser = new FormClient(h.app);
  const second = await browser.get('/portal');
  assert.match(second.body, /Weekend pass/);
  assert.ok(browser.csrf.length > 10 && !second.body.includes('\u0000'), 'markers are replaced');
  assert.ok(second.cookies.some((c) => c.name === 'tp_csrf'));
});

test('the status page knows a guest’s device by its MAC when its address changed since the hand-off, and no one else’s session counts', async (t) => {
  const { h, codes } = await portalWithCatalogue(t);
  const nas = Object.values(h.store.db.nasClients)[0]!;
  const startOn = async (acctSessionId: string, mac: string, subscriptionId: string) =>
    recordAccounting(h.store, h.clock, {
      nasId: nas.id,
      status: 'start',
      acctSessionId,
      subscriptionId,
      mac,
      ip: '10.1.0.77',
      inputOctets: 0,
      outputOctets: 0,
      sessionTime: 0,
      terminateCause: null,
      interimIntervalSeconds: 300,
    });
  const phone = new FormClient(h.app);
  await phone.get(`/portal?${coovaQuery('aa:bb:cc:00:00:01')}`);
  assert.equal((await phone.post('/portal/voucher', { code: codes[0]!, terms: 'yes' })).statusCode, 303);
  const laptop = new FormClient(h.app, { remoteAddress: '127.0.0.2' });
  await laptop.get(`/portal?${coovaQuery('aa:bb:cc:00:00:02')}`);
  assert.equal((await laptop.post('/portal/voucher', { code: codes[1]!, terms: 'yes' })).statusCode, 303);
  const [phonePlan, laptopPlan] = [codes[0]!, codes[1]!].map(
    (code) => Object.values(h.store.db.subscriptions).find((s) => s.voucherCode === code)!.id,
  );

  // The laptop's guest has a session on the phone's MAC (a spoofed or recycled address): not the phone's.
  await startOn('other-guest', 'aa:bb:cc:00:00:01', laptopPlan!);
  assert.match((await phone.get('/portal/status')).body, /<h1>You are not connected yet<\/h1>/);
  // DHCP gave the phone a new address after the hand-off: its own session is still found by its MAC.
  await startOn('renewed-lease', 'aa:bb:cc:00:00:01', phonePlan!);
  assert.match((await phone.get('/portal/status')).body, /<h1>You are connected<\/h1>/);
});
