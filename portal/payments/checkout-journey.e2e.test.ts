import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import { openChromium, PHONE } from '../testing/chromium.js';
import { startPaymentsWorld } from './payments-harness.js';

test('a guest picks a paid plan, is declined with a clear message, retries with a good card and lands connected', async (t) => {
  if (!requireSystem(t, { tools: ['chromium'] })) return;
  const browser = await openChromium(t, { javaScriptEnabled: false, viewport: PHONE });
  // Started after the browser so that its teardown runs after the browser has let go of its connections.
  const world = await startPaymentsWorld(t, { gateway: true });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const portal = world.appliance.url;

  await page.goto(`${portal}/portal/signup`);
  await page.getByLabel('Email').fill('payer@example.test');
  await page.getByLabel('Password').fill('Blue-Lagoon-Sunrise-42');
  await page.getByLabel('I accept the terms of use').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL((url) => url.pathname !== '/portal/signup');
  await page.goto(`${portal}/portal`);
  await page.getByRole('button', { name: 'Buy: One hour' }).click();

  // The provider's hosted page, on the fake's own origin: card data never reaches the portal.
  await page.waitForURL(`${world.fake.url}/c/pay/**`);
  assert.match(await page.locator('h1').innerText(), /Pay €2\.00/);
  await page.getByLabel('Card number').fill('4000 0000 0000 0002');
  await page.getByRole('button', { name: /^Pay/ }).click();
  const alert = page.getByRole('alert');
  assert.match(await alert.innerText(), /Your card was declined\./);
  assert.equal(Object.values(world.appliance.store.db.subscriptions).length, 0, 'no access for a declined card');

  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByRole('button', { name: /^Pay/ }).click();
  await page.waitForURL(`${portal}/portal/status`);
  assert.equal(await page.locator('h1').innerText(), 'You are connected');
  assert.match(await page.locator('#time-left').innerText(), /\S/);

  const db = world.appliance.store.db;
  const [payment] = Object.values(db.payments.payments);
  assert.equal(payment?.status, 'paid');
  const sessions = Object.values(db.sessions);
  assert.equal(sessions.length, 1, 'the gateway let the paying device through');
  assert.equal(
    sessions[0]?.mac,
    '02:00:00:00:00:42',
    'found by its MAC on the LAN after the round trip to the provider',
  );
});
