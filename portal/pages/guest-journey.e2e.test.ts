import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { seedDemoCatalogue } from '../../appliance/plans/demo-catalogue.js';
import { findPlan } from '../../appliance/plans/plans.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { openChromium, PHONE } from '../testing/chromium.js';
import { startGuestPortal, type GuestPortalHarness } from '../testing/guest-portal-harness.js';

const CHALLENGE = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const CHAP_ID = 0o251;
const CHAP_CHALLENGE = [0o123, 0o45, 0o377, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const md5hex = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest('hex');
const octal = (bytes: number[]) => bytes.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');

/** A stand-in NAS: records where the portal sent the browser. */
async function fakeNas(host: string): Promise<{ server: Server; port: number; hits: URL[] }> {
  const hits: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    // Browsers also ask the NAS for /favicon.ico; only logins count.
    if (url.pathname !== '/favicon.ico') hits.push(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>NAS</title><p>logged in</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

interface Shot {
  name: string;
  bytes: number;
}

/** Screenshot at phone size, and prove the page does not scroll sideways. */
async function look(page: Page, shots: string, name: string, record: Shot[]): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const { scroll, viewport } = (await page.evaluate(
    '({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth })',
  )) as { scroll: number; viewport: number };
  assert.equal(viewport, PHONE.width);
  assert.ok(scroll <= viewport, `${name}: page is ${scroll}px wide on a ${viewport}px phone`);
  const html = await page.content();
  record.push({ name, bytes: Buffer.byteLength(html) });
  assert.ok(Buffer.byteLength(html) < 50 * 1024, `${name} is under 50 KB`);
}

async function setup(t: TestContext) {
  const h = await startGuestPortal(t, { listen: true });
  await seedDemoCatalogue(h.store, h.clock);
  const chilli = await fakeNas('127.0.0.1');
  const mikrotik = await fakeNas('127.0.0.2');
  t.after(() => {
    chilli.server.close();
    mikrotik.server.close();
  });
  await addNasClient(h.store, h.clock, { name: 'chilli', source: '127.0.0.1', dialect: 'coovachilli' });
  await addNasClient(h.store, h.clock, { name: 'mikrotik', source: '127.0.0.2', dialect: 'mikrotik' });
  const hour = findPlan(h.store.db, 'One hour')!;
  const { codes } = await createVoucherBatch(h.store, h.clock, { planId: hour.id, count: 4, createdBy: 'staff' });
  return { h, chilli, mikrotik, codes };
}

async function freeTierJourney(
  h: GuestPortalHarness,
  chilli: { port: number; hits: URL[] },
  page: Page,
  options: { mac: string; email: string; shots: string; record: Shot[]; js: boolean },
) {
  const suffix = options.js ? 'js' : 'nojs';
  const query = new URLSearchParams({
    res: 'notyet',
    uamip: '127.0.0.1',
    uamport: String(chilli.port),
    challenge: CHALLENGE,
    mac: options.mac,
    ip: '10.1.0.77',
    called: '00-11-22-33-44-55',
    nasid: 'lobby',
    sessionid: '5f2a0001',
    userurl: 'http://example.com/welcome',
  });
  await page.goto(`${h.url}/portal?${query}`);
  await look(page, options.shots, `landing-${suffix}`, options.record);
  await page.getByRole('link', { name: 'Create account' }).click();
  await page.waitForURL('**/portal/signup');
  await look(page, options.shots, `signup-${suffix}`, options.record);
  await page.getByLabel('Email').fill(options.email);
  await page.getByLabel('Password').fill('Blue-Lagoon-Sunrise-42');
  await page.getByLabel('Name (optional)').fill('Ada');
  await page.getByLabel('I accept the terms of use').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${h.url}/portal`);
  await page.getByRole('link', { name: 'Take the free tier' }).click();
  await page.waitForURL('**/portal/free');
  await look(page, options.shots, `free-${suffix}`, options.record);
  await page.getByLabel('I accept the terms of use').check();
  const before = chilli.hits.length;
  await page.getByRole('button', { name: 'Take the free tier' }).click();
  await page.waitForURL(`http://127.0.0.1:${chilli.port}/logon?**`);
  assert.equal(chilli.hits.length, before + 1);
  const logon = chilli.hits.at(-1)!;
  assert.equal(logon.pathname, '/logon');
  assert.equal(logon.searchParams.get('userurl'), 'http://example.com/welcome');
  const username = logon.searchParams.get('username')!;
  const credential = h.store.db.portalCredentials[username];
  assert.ok(credential, 'the portal minted a one-time credential');
  assert.equal(credential.mac, options.mac.toLowerCase().replaceAll('-', ':'));
  // Independently: CoovaChilli UAM CHAP, ident 0, over the raw challenge (no uamsecret on this NAS).
  const expected = md5hex(Buffer.from([0]), Buffer.from(credential.password), Buffer.from(CHALLENGE, 'hex'));
  assert.equal(logon.searchParams.get('response'), expected);
  await page.goto(`${h.url}/portal/status`);
  await look(page, options.shots, `status-${suffix}`, options.record);
  assert.match(await page.locator('#time-left').innerText(), /30 min/);
  assert.match(await page.locator('.devices').innerText(), /Linux · MAC aa:bb:cc:00:01:0\d \(this device\)/);
  await page.goto(`${h.url}/portal/account`);
  await look(page, options.shots, `account-${suffix}`, options.record);
  assert.match(await page.locator('main').innerText(), new RegExp(options.email.replace('.', '\\.')));
}

async function voucherJourney(
  h: GuestPortalHarness,
  mikrotik: { port: number; hits: URL[] },
  page: Page,
  options: { mac: string; code: string; shots: string; record: Shot[]; js: boolean },
) {
  const suffix = options.js ? 'js' : 'nojs';
  const query = new URLSearchParams({
    'link-login-only': `http://127.0.0.2:${mikrotik.port}/login`,
    'link-orig': 'http://example.org/start',
    'chap-id': octal([CHAP_ID]),
    'chap-challenge': octal(CHAP_CHALLENGE),
    mac: options.mac,
    ip: '10.5.50.23',
  });
  await page.goto(`${h.url}/portal/voucher?${query}`);
  await page.goto(`${h.url}/portal?${query}`);
  await page.getByLabel('Voucher code').fill(options.code.toLowerCase().replace(/(.{5})/, '$1-'));
  await page.getByLabel('I accept the terms of use').first().check();
  const before = mikrotik.hits.length;
  await page.getByRole('button', { name: 'Redeem and connect' }).click();
  await page.waitForURL(`http://127.0.0.2:${mikrotik.port}/login?**`);
  assert.equal(mikrotik.hits.length, before + 1);
  const login = mikrotik.hits.at(-1)!;
  const credential = h.store.db.portalCredentials[login.searchParams.get('username')!]!;
  const expected = md5hex(Buffer.from([CHAP_ID]), Buffer.from(credential.password), Buffer.from(CHAP_CHALLENGE));
  assert.equal(login.searchParams.get('password'), expected, 'MikroTik CHAP-MD5 recomputed independently');
  assert.equal(login.searchParams.get('dst'), 'http://example.org/start');
  await page.goto(`${h.url}/portal/status`);
  await look(page, options.shots, `voucher-status-${suffix}`, options.record);
  assert.match(await page.locator('#time-left').innerText(), /60 min|1 h/);
  // The same code on another device is refused with a clear message.
  await page.goto(`${h.url}/portal/voucher`);
  await look(page, options.shots, `voucher-${suffix}`, options.record);
}

for (const js of [true, false]) {
  test(`guest journeys at phone size, JavaScript ${js ? 'on' : 'off'}: CoovaChilli free tier after sign-up, MikroTik voucher`, async (t) => {
    if (!requireSystem(t, { tools: ['chromium'] })) return;
    const { h, chilli, mikrotik, codes } = await setup(t);
    const shots = join(tmpdir(), 'turnpike-portal-screenshots');
    await mkdir(shots, { recursive: true });
    const record: Shot[] = [];

    const first = await openChromium(t, { javaScriptEnabled: js, viewport: PHONE });
    try {
      await freeTierJourney(h, chilli, first.pages()[0] ?? (await first.newPage()), {
        mac: js ? 'AA-BB-CC-00-01-01' : 'AA-BB-CC-00-01-02',
        email: js ? 'ada@example.test' : 'grace@example.test',
        shots,
        record,
        js,
      });
      const page = first.pages()[0]!;
      await page.goto(`${h.url}/portal/login?lang=de`);
      await look(page, shots, `login-de-${js ? 'js' : 'nojs'}`, record);
      assert.match(await page.locator('h1').innerText(), /Anmelden/);
      const forged = new URLSearchParams({ uamip: '203.0.113.66', uamport: '3990', challenge: CHALLENGE, lang: 'en' });
      const refused = await page.goto(`${h.url}/portal?${forged}`);
      assert.equal(refused?.status(), 400);
      await look(page, shots, `error-forged-nas-${js ? 'js' : 'nojs'}`, record);
      assert.match(await page.getByRole('alert').innerText(), /Open any website to get the login page again/);
    } finally {
      await first.close();
    }

    const second = await openChromium(t, { javaScriptEnabled: js, viewport: PHONE });
    try {
      const page = second.pages()[0] ?? (await second.newPage());
      await voucherJourney(h, mikrotik, page, {
        mac: js ? 'aa:bb:cc:00:02:01' : 'aa:bb:cc:00:02:02',
        code: codes[js ? 0 : 1]!,
        shots,
        record,
        js,
      });
      const reuse = new URLSearchParams({
        'link-login-only': `http://127.0.0.2:${mikrotik.port}/login`,
        mac: 'aa:bb:cc:00:02:99',
      });
      await page.context().clearCookies();
      await page.goto(`${h.url}/portal?${reuse}`);
      await page.getByLabel('Voucher code').fill(codes[js ? 0 : 1]!);
      await page.getByLabel('I accept the terms of use').first().check();
      await page.getByRole('button', { name: 'Redeem and connect' }).click();
      await page.waitForURL('**/portal/voucher');
      await look(page, shots, `voucher-used-${js ? 'js' : 'nojs'}`, record);
      assert.match(await page.getByRole('alert').innerText(), /already been used/);
    } finally {
      await second.close();
    }
    t.diagnostic(`screenshots in ${shots}: ${record.map((s) => `${s.name} ${s.bytes} B`).join(', ')}`);
  });
}
