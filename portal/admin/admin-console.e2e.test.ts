import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { totpCode } from '../../appliance/accounts/totp.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import { startAuthHarness, type AuthHarness } from '../auth/auth-test-harness.js';
import { firstPage, openChromium } from '../testing/chromium.js';

/** Screenshot, and no console page may ship a script but the box's own chart scripts, or weigh more than 150 KB. */
async function look(page: Page, shots: string, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const html = await page.content();
  assert.ok(Buffer.byteLength(html) < 150 * 1024, `${name} is under 150 KB`);
  assert.equal(await page.locator('script:not([src^="/admin/assets/"])').count(), 0, `${name} needs no script`);
}

async function enrolFromPage(h: AuthHarness, page: Page): Promise<string> {
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, h.clock.now()));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
  return secret;
}

test('in Chromium without JavaScript: the first admin sets up the account, creates a plan and a voucher batch and prints it; an operator meets a 403 page', async (t) => {
  if (!requireSystem(t, { tools: ['chromium'] })) return;
  const h = await startAuthHarness({ withGuestJourney: true });
  const shots = join(tmpdir(), 'turnpike-console-screenshots');
  await mkdir(shots, { recursive: true });
  const browser = await openChromium(t, { javaScriptEnabled: false });
  t.after(() => h.close());
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const first = (await h.auth.accounts.users.ensureFirstAdmin())!;
  const page = await browser.newPage();

  await page.goto(`${address}/admin`);
  await page.waitForURL('**/admin/login?next=%2Fadmin');
  await look(page, shots, 'console-login');
  await page.getByLabel('Email').fill(first.email);
  await page.getByLabel('Password').fill(first.oneTimePassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/admin/setup/password');
  await look(page, shots, 'console-password');
  await page.getByLabel('Current (one-time) password').fill(first.oneTimePassword);
  await page.getByLabel('New password').fill('Lantern-Orchard-Quiet-19');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL('**/admin/setup/mfa');
  assert.equal(await page.locator('.qr svg').count(), 1, 'the QR code is on the page');
  await look(page, shots, 'console-enrol');
  await enrolFromPage(h, page);
  assert.equal(await page.locator('ul.codes li').count(), 10);
  await look(page, shots, 'console-recovery-codes');
  await page.getByRole('link', { name: 'Continue to the dashboard' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await look(page, shots, 'console-dashboard');

  await page.getByRole('link', { name: 'Plans' }).click();
  await page.getByRole('link', { name: 'New plan' }).click();
  await page.getByLabel('Name').fill('Conference day');
  await page.getByLabel('Duration (minutes; empty = until the data is spent)').fill('600');
  await page.getByLabel('Price (minor units, e.g. cents)').fill('500');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Plan created.').waitFor();
  await look(page, shots, 'console-plans');

  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Vouchers' }).click();
  await page.getByLabel('Plan').selectOption({ label: 'Conference day' });
  await page.getByLabel('Number of codes').fill('6');
  await page.getByLabel('Note').fill('Hall B');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByText('Batch created.').waitFor();
  assert.equal(await page.locator('tbody tr').count(), 6);
  await look(page, shots, 'console-batch');
  await page.getByRole('link', { name: 'Print sheet' }).click();
  await page.getByText('Conference day: 6 vouchers').waitFor();
  assert.equal(await page.locator('section.card').count(), 6);
  await page.screenshot({ path: join(shots, 'console-voucher-sheet.png'), fullPage: true });

  await page.goto(`${address}/admin/audit`);
  for (const action of ['plan.created', 'voucher_batch.created', 'mfa.enabled', 'password.changed']) {
    await page.getByRole('cell', { name: action, exact: true }).first().waitFor();
  }
  await look(page, shots, 'console-audit');

  await h.auth.accounts.users.createUser(
    { email: 'desk@example.test', role: 'operator', password: 'Harbour-Lights-Evening-77' },
    null,
  );
  const desk = await firstPage(await openChromium(t, { javaScriptEnabled: false }));
  await desk.goto(`${address}/admin/login`);
  await desk.getByLabel('Email').fill('desk@example.test');
  await desk.getByLabel('Password').fill('Harbour-Lights-Evening-77');
  await desk.getByRole('button', { name: 'Sign in' }).click();
  await desk.waitForURL('**/admin/setup/mfa');
  await enrolFromPage(h, desk);
  const forbidden = await desk.goto(`${address}/admin/nas`);
  assert.equal(forbidden?.status(), 403);
  await desk.getByRole('heading', { name: 'Not for your role' }).waitFor();
  await desk.screenshot({ path: join(shots, 'console-operator-403.png'), fullPage: true });
});

test('axe-core finds no serious or critical accessibility violation on any console page', async (t) => {
  if (!requireSystem(t, { tools: ['chromium'] })) return;
  const h = await startAuthHarness({ withGuestJourney: true });
  // axe runs as a script in the page; the console itself still ships none.
  const browser = await openChromium(t, { javaScriptEnabled: true });
  t.after(() => h.close());
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const plan = await createPlan(h.store, h.clock, { name: 'Day pass', durationSeconds: 86_400 });
  const nas = await addNasClient(h.store, h.clock, { name: 'lobby', source: '10.0.0.1' });
  const { batch } = await createVoucherBatch(h.store, h.clock, { planId: plan.id, count: 3, createdBy: 'test' });
  const guest = await h.auth.accounts.users.createUser({ email: 'ada@example.test', role: 'guest' }, null);
  const subscription = await grantSubscription(h.store, h.clock, {
    userId: guest.user.id,
    voucherCode: null,
    plan,
    source: 'staff-grant',
    sourceRef: null,
  });
  await h.store.update((db) => {
    db.sessions.s1 = {
      id: 's1',
      subscriptionId: subscription.id,
      ownerKey: `user:${guest.user.id}`,
      nasId: nas.id,
      acctSessionId: 'a1',
      mode: 'controller',
      mac: 'aa:bb:cc:dd:ee:01',
      ip: '10.1.0.7',
      startedAt: h.clock.now(),
      lastUpdateAt: h.clock.now(),
      interimIntervalSeconds: 300,
      inputOctets: 1000,
      outputOctets: 5_000_000,
      chargedOctets: 0,
      disconnectPendingSince: null,
    };
  });
  await h.auth.accounts.users.createUser(
    { email: 'boss@example.test', role: 'admin', password: 'Harbour-Lights-Evening-77' },
    null,
  );
  const page = await browser.newPage();
  const scanned: string[] = [];
  async function scan(url: string): Promise<void> {
    await page.goto(`${address}${url}`);
    const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'best-practice']).analyze();
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      [],
      `${url} has no serious or critical violation`,
    );
    scanned.push(url);
  }
  await scan('/admin/login');
  await page.getByLabel('Email').fill('boss@example.test');
  await page.getByLabel('Password').fill('Harbour-Lights-Evening-77');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/admin/setup/mfa');
  const { violations } = await new AxeBuilder({ page }).analyze();
  assert.deepEqual(
    violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id),
    [],
    'the enrolment page',
  );
  await enrolFromPage(h, page);
  for (const url of [
    '/admin',
    '/admin/sessions',
    '/admin/sessions/s1',
    '/admin/people',
    `/admin/people/${guest.user.id}`,
    '/admin/plans',
    '/admin/plans/new',
    `/admin/plans/${plan.id}`,
    '/admin/vouchers',
    `/admin/vouchers/${batch.id}`,
    '/admin/nas',
    '/admin/audit',
    '/admin/payments',
    '/admin/settings',
    '/admin/sessions?lang=de',
  ]) {
    await scan(url);
  }
  assert.equal(scanned.length, 16);
});
