import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { totpCode } from '../../appliance/accounts/totp.js';
import { readAudit } from '../../appliance/console/audit-reader.js';
import { findPlan } from '../../appliance/plans/plans.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { systemClock } from '../../shared/clock.js';
import { coaNasConfig, freeUdpPort, startFreeRadius } from '../../radius/freeradius-harness.js';
import { attributeOf, radclient } from '../../radius/radclient-driver.js';
import { openChromium } from '../testing/chromium.js';
import { startEmbeddedAppliance } from '../../appliance/testing/embedded-appliance.js';

test('a guest redeems a voucher over RADIUS, the session shows live in the console, the operator disconnects it, the NAS receives the Disconnect-Request and the audit log names the operator', async (t) => {
  if (!requireSystem(t, { tools: ['chromium', 'freeradius', 'radclient'] })) return;
  const { appliance, dir } = await startEmbeddedAppliance(t, {
    overrides: { radius: { coaTimeoutMs: 500, coaRetries: 1 } },
  });
  const secret = appliance.localNasSecret!;
  const coaPort = await freeUdpPort();
  const nasDir = join(dir, 'nas');
  await mkdir(nasDir);
  const nas = await startFreeRadius(
    nasDir,
    coaNasConfig(nasDir, { port: coaPort, secret, requireMessageAuthenticator: true }),
  );
  t.after(() => nas.stop());
  await appliance.store.update((db) => {
    const local = Object.values(db.nasClients).find((client) => client.name === 'local')!;
    // FreeRADIUS 3.2.1 signs none of its replies: a NAS held to Message-Authenticator would have its ACK ignored.
    db.nasClients[local.id] = { ...local, coaPort, requireMessageAuthenticator: false };
  });
  const plan = findPlan(appliance.store.db, 'One hour')!;
  const { codes } = await createVoucherBatch(appliance.store, systemClock, {
    planId: plan.id,
    count: 1,
    createdBy: 'test',
  });
  const code = codes[0]!;

  const accept = await radclient(
    `127.0.0.1:${appliance.radius!.authPort}`,
    'auth',
    secret,
    `User-Name = "${code}"\nUser-Password = "${code}"\nCalling-Station-Id = "02-00-00-00-00-42"\nMessage-Authenticator = 0x00\n`,
  );
  assert.equal(accept.reply, 'Access-Accept', accept.output);
  const bound = attributeOf(accept, 'Class');
  const start = await radclient(
    `127.0.0.1:${appliance.radius!.acctPort}`,
    'acct',
    secret,
    `Acct-Status-Type = Start\nAcct-Session-Id = "journey-1"\nUser-Name = "${code}"\n` +
      `Calling-Station-Id = "02-00-00-00-00-42"\nFramed-IP-Address = 10.1.0.42\n${bound ? `Class = ${bound}\n` : ''}`,
  );
  assert.equal(start.reply, 'Accounting-Response', start.output);

  const operator = await appliance.services.accounts.users.createUser(
    { email: 'desk@example.test', role: 'operator', password: 'Harbour-Lights-Evening-77' },
    null,
  );
  const browser = await openChromium(t, { javaScriptEnabled: false });
  const page = await browser.newPage();
  await page.goto(`${appliance.portalUrl}/admin`);
  await page.getByLabel('Email').fill('desk@example.test');
  await page.getByLabel('Password').fill('Harbour-Lights-Evening-77');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/admin/setup/mfa');
  const totp = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  await page.getByLabel('Code from your authenticator app').fill(totpCode(totp, Date.now()));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('link', { name: 'Continue to the dashboard' }).click();
  assert.equal(await page.locator('#live-sessions').innerText(), '1', 'the dashboard counts the live session');
  assert.equal(await page.locator('#radius-accepts').innerText(), '1', 'and the Access-Accept');

  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sessions' }).click();
  await page.getByLabel(/^Search/).fill('02:00:00:00:00:42');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('link', { name: code }).click();
  await page.getByRole('cell', { name: '10.1.0.42' }).waitFor();
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByText('The NAS was asked to disconnect the session: ack.').waitFor();

  assert.match(nas.output(), /Received Disconnect-Request[\s\S]*?Acct-Session-Id = "journey-1"/);
  const kicked = await readAudit(appliance.store, { action: 'session.kicked' });
  assert.equal(kicked.entries.length, 1);
  assert.equal(kicked.entries[0]!.actorId, operator.user.id, 'the audit log names who did it');
});
