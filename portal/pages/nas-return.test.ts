import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

const CHALLENGE = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

async function portal(t: TestContext) {
  const h = await startGuestPortal(t);
  await addNasClient(h.store, h.clock, { name: 'chilli', source: '10.1.0.1', dialect: 'coovachilli' });
  await addNasClient(h.store, h.clock, { name: 'mikrotik', source: '10.5.50.1', dialect: 'mikrotik' });
  return h;
}

/** What CoovaChilli appends when it sends the browser back after a step of its UAM login. */
const chilli = (res: string, extra: Record<string, string> = {}): string =>
  `/portal?${new URLSearchParams({ res, uamip: '10.1.0.1', uamport: '3990', mac: 'AA-BB-CC-00-00-01', ip: '10.1.0.50', ...extra })}`;

/** The visible text of a page: no tags, no scripts. */
const textOf = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

test('every CoovaChilli res value lands on the page a guest expects, without a challenge', async (t) => {
  const h = await portal(t);
  const browser = new FormClient(h.app);
  const expected: Array<[string, number, RegExp]> = [
    ['success', 200, /You are connected.*Your device is online/],
    ['already', 200, /You are connected/],
    ['popup2', 200, /You are connected/],
    ['failed', 200, /did not accept the login/],
    ['reject', 200, /did not accept the login/],
    ['logoff', 200, /You have been logged out/],
    ['popup3', 200, /You have been logged out/],
    ['timeout', 200, /Your session has ended.*time on the network is up/],
  ];
  for (const [res, status, text] of expected) {
    const page = await browser.get(chilli(res, { userurl: 'http://example.com/news' }));
    assert.equal(page.statusCode, status, `res=${res}: ${page.body}`);
    assert.match(textOf(page.body), text, `res=${res}`);
    assert.doesNotMatch(page.body, /challenge|32 hex/i, `res=${res} shows no developer text`);
  }
  const connected = await browser.get(chilli('success', { userurl: 'http://example.com/news' }));
  assert.match(connected.body, /href="http:\/\/example\.com\/news"/, 'the continue link');
  assert.match(connected.body, /href="\/portal\/status"/);
  for (const res of ['failed', 'logoff', 'timeout']) {
    const page = await browser.get(chilli(res));
    assert.match(page.body, /href="http:\/\/10\.1\.0\.1:3990\/prelogin"/, `res=${res} offers a fresh login at the NAS`);
  }
});

test('a failed CoovaChilli login that brings a fresh challenge is retried on the landing page', async (t) => {
  const h = await portal(t);
  const browser = new FormClient(h.app);
  const page = await browser.get(chilli('failed', { challenge: CHALLENGE }));
  assert.equal(page.statusCode, 200);
  assert.match(textOf(page.body), /did not accept the login/);
  assert.match(page.body, /name="code"/, 'the voucher form is there to try again');
  assert.equal(browser.cookies.has('tp_nas'), true, 'the hand-off is kept for the retry');
});

test('MikroTik: status and logout pages and a login error land on the matching guest page', async (t) => {
  const h = await portal(t);
  const browser = new FormClient(h.app);
  const status = await browser.get(
    `/portal?${new URLSearchParams({ 'link-status': 'http://10.5.50.1/status', 'link-logout': 'http://10.5.50.1/logout', 'link-orig': 'http://example.com/' })}`,
  );
  assert.match(textOf(status.body), /You are connected/);
  assert.match(status.body, /href="http:\/\/example\.com\/"/);
  const loggedOut = await browser.get(`/portal?${new URLSearchParams({ 'link-login': 'http://10.5.50.1/login' })}`);
  assert.match(textOf(loggedOut.body), /You have been logged out/);
  assert.match(loggedOut.body, /href="http:\/\/10\.5\.50\.1\/login"/);
  const failed = await browser.get(
    `/portal?${new URLSearchParams({ 'link-login-only': 'http://10.5.50.1/login', error: 'invalid username or password', mac: '02:00:00:00:00:09' })}`,
  );
  assert.match(textOf(failed.body), /did not accept the login/);
  assert.doesNotMatch(failed.body, /invalid username or password/, 'the router’s own text is not shown');
  const elsewhere = await browser.get(`/portal?${new URLSearchParams({ 'link-login': 'http://203.0.113.9/login' })}`);
  assert.doesNotMatch(elsewhere.body, /203\.0\.113\.9/, 'no link to an address that is no NAS');
});

test('a hand-off that cannot be used says what to do, in plain words and in the guest’s language', async (t) => {
  const h = await portal(t);
  const german = new FormClient(h.app, { headers: { 'accept-language': 'de' } });
  const broken = await german.get(chilli('notyet', { challenge: 'not-hex' }));
  assert.equal(broken.statusCode, 400);
  assert.match(textOf(broken.body), /Öffnen Sie eine beliebige Website/);
  assert.doesNotMatch(broken.body, /challenge|hex|uamip/i);
  assert.match(broken.body, /href="http:\/\/10\.1\.0\.1:3990\/prelogin"/);
  const forged = await new FormClient(h.app).get(chilli('notyet', { challenge: CHALLENGE, uamip: '203.0.113.66' }));
  assert.equal(forged.statusCode, 400);
  assert.match(textOf(forged.body), /Open any website to get the login page again/);
  assert.doesNotMatch(forged.body, /203\.0\.113\.66|configured NAS/);
});
