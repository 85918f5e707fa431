import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { totpCode } from '../../appliance/accounts/totp.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { recordAccounting } from '../../appliance/sessions/accounting.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { redeemVoucher } from '../../appliance/vouchers/redeem.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import { startAuthHarness } from '../auth/auth-test-harness.js';
import { openChromium } from '../testing/chromium.js';

async function noSeriousViolation(page: Page, what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'best-practice']).analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `${what} has no serious or critical violation`,
  );
}

test('in Chromium with JavaScript the reports and the dashboard draw their charts from the tables, which fold away', async (t) => {
  if (!requireSystem(t, { tools: ['chromium'] })) return;
  const h = await startAuthHarness({ withGuestJourney: true });
  const shots = join(tmpdir(), 'turnpike-console-screenshots');
  await mkdir(shots, { recursive: true });
  const browser = await openChromium(t, { javaScriptEnabled: true });
  t.after(() => h.close());
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const plan = await createPlan(h.store, h.clock, { name: 'Day pass', durationSeconds: 86_400 });
  const { codes } = await createVoucherBatch(h.store, h.clock, { planId: plan.id, count: 3, createdBy: 'test' });
  // Three guests over three hours, so that the lines have points to join.
  for (const [index, code] of codes.entries()) {
    const mac = `02:00:00:00:00:0${index + 1}`;
    const sub = await redeemVoucher(h.store, h.clock, { code, mac });
    const base = {
      nasId: 'nas-1',
      acctSessionId: `s${index}`,
      subscriptionId: sub.id,
      mac,
      ip: null,
      sessionTime: 0,
      terminateCause: null,
      interimIntervalSeconds: 300,
    };
    await recordAccounting(h.store, h.clock, { ...base, status: 'start', inputOctets: 0, outputOctets: 0 });
    const octets = (index + 1) * 7_000_000;
    await recordAccounting(h.store, h.clock, {
      ...base,
      status: 'interim',
      inputOctets: octets / 10,
      outputOctets: octets,
    });
    h.clock.advance(3_600_000);
  }
  await h.auth.accounts.users.createUser(
    { email: 'boss@example.test', role: 'admin', password: 'Harbour-Lights-Evening-77' },
    null,
  );
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // The browser asks for /favicon.ico on its own; every other request must succeed.
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
      errors.push(`${response.status()} ${response.url()}`);
    }
  });
  await page.goto(`${address}/admin/login`);
  await page.getByLabel('Email').fill('boss@example.test');
  await page.getByLabel('Password').fill('Harbour-Lights-Evening-77');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/admin/setup/mfa');
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, h.clock.now()));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();

  await page.goto(`${address}/admin/reports`);
  await page.locator('.chart canvas').first().waitFor();
  assert.equal(await page.locator('.chart canvas').count(), 2, 'usage by day and redemptions by day are drawn');
  assert.equal(await page.locator('details.figures[open]').count(), 0, 'the tables fold away under their charts');
  assert.equal((await page.locator('table[data-chart] tbody tr').count()) > 0, true, 'and are still there');
  await page.screenshot({ path: join(shots, 'console-reports.png'), fullPage: true });
  await noSeriousViolation(page, '/admin/reports with its charts');

  await page.goto(`${address}/admin`);
  await page.locator('.chart canvas').first().waitFor();
  assert.equal(await page.locator('.chart canvas').count(), 2, 'the last 24 hours and the last 30 days');
  await page.screenshot({ path: join(shots, 'console-dashboard-charts.png'), fullPage: true });
  await noSeriousViolation(page, '/admin with its charts');
  assert.deepEqual(errors, [], 'the chart script loads and runs without an error');
});
