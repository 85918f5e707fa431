import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPlan } from '../../appliance/plans/plans.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import { startEmbeddedAppliance } from '../../appliance/testing/embedded-appliance.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { systemClock } from '../../shared/clock.js';
import { attributeOf, radclient } from '../../radius/radclient-driver.js';
import { FormClient } from '../testing/form-client.js';
import { consoleStaff } from './console-test-kit.js';

/** What a guest or a NAS might send, each marked so that a raw copy on a page is easy to spot. */
const EVIL = {
  userName: '<script>alert("user-name")</script>',
  nasIdentifier: '"><img src=x onerror=alert("nas-identifier")>',
  calledStation: '<script>alert("called-station")</script>',
  callingStation: '"><svg onload=alert("calling-station")>',
  acctSessionId: '<img src=x onerror=alert("acct-session")>',
  userAgent: 'Mozilla/5.0 <script>alert("user-agent")</script>',
  displayName: '<img src=x onerror=alert("display-name")>',
};

/** Pieces of markup that must never appear on a page as markup. */
const RAW = [/<script>alert/i, /<img src=x onerror/i, /<svg onload/i];

/** A radclient request body: RADIUS string values quoted, with `"` and `\` escaped as radclient reads them. */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

test('script-bearing values sent as RADIUS attributes and as User-Agent never reach a console page as markup', async (t) => {
  if (!requireSystem(t, { tools: ['radclient'] })) return;
  const { appliance } = await startEmbeddedAppliance(t);
  const secret = appliance.localNasSecret!;
  const auth = `127.0.0.1:${appliance.radius!.authPort}`;
  const acct = `127.0.0.1:${appliance.radius!.acctPort}`;
  const plan = findPlan(appliance.store.db, 'One hour')!;
  const { batch, codes } = await createVoucherBatch(appliance.store, systemClock, {
    planId: plan.id,
    count: 1,
    createdBy: 'test',
  });
  const code = codes[0]!;
  const hostile =
    `NAS-Identifier = ${quoted(EVIL.nasIdentifier)}\nCalled-Station-Id = ${quoted(EVIL.calledStation)}\n` +
    `Calling-Station-Id = ${quoted(EVIL.callingStation)}\n`;

  // A login whose User-Name is a script: refused, and counted by reason.
  const refused = await radclient(
    auth,
    'auth',
    secret,
    `User-Name = ${quoted(EVIL.userName)}\nUser-Password = "whatever-1"\n${hostile}Message-Authenticator = 0x00\n`,
  );
  assert.equal(refused.reply, 'Access-Reject', refused.output);
  // A voucher login from a NAS whose every free-text attribute carries markup, then its accounting.
  const accepted = await radclient(
    auth,
    'auth',
    secret,
    `User-Name = "${code}"\nUser-Password = "${code}"\n${hostile}Message-Authenticator = 0x00\n`,
  );
  assert.equal(accepted.reply, 'Access-Accept', accepted.output);
  const bound = attributeOf(accepted, 'Class');
  const start = await radclient(
    acct,
    'acct',
    secret,
    `Acct-Status-Type = Start\nAcct-Session-Id = ${quoted(EVIL.acctSessionId)}\nUser-Name = ${quoted(EVIL.userName)}\n` +
      `${hostile}Framed-IP-Address = 10.1.0.66\n${bound ? `Class = ${bound}\n` : ''}`,
  );
  assert.equal(start.reply, 'Accounting-Response', start.output);
  const session = Object.values(appliance.store.db.sessions).find((candidate) => candidate.ip === '10.1.0.66');
  assert.ok(session, 'the hostile NAS’s session is live');

  // Through the portal: a sign-up from a browser whose User-Agent and chosen name carry markup.
  const guest = new FormClient(appliance.portal, { headers: { 'user-agent': EVIL.userAgent } });
  await guest.get('/portal/signup');
  const signup = await guest.post('/portal/signup', {
    email: 'mallory@example.test',
    password: 'a perfectly good passphrase',
    displayName: EVIL.displayName,
    terms: 'yes',
  });
  assert.ok(signup.statusCode < 400, signup.body);
  const mallory = Object.values(appliance.store.db.users).find((user) => user.email === 'mallory@example.test');
  assert.ok(mallory, 'the guest signed up');

  const world = { app: appliance.portal, accounts: appliance.services.accounts, clock: systemClock };
  const admin = await consoleStaff(world, 'admin');
  const nasId = Object.values(appliance.store.db.nasClients)[0]!.id;
  const pages = [
    '/admin',
    '/admin/sessions',
    `/admin/sessions?q=${encodeURIComponent(EVIL.userName)}`,
    `/admin/sessions/${session.id}`,
    '/admin/people',
    `/admin/people?q=${encodeURIComponent(EVIL.displayName)}`,
    `/admin/people/${mallory.id}`,
    '/admin/plans',
    '/admin/vouchers',
    `/admin/vouchers/${batch.id}`,
    '/admin/nas',
    `/admin/nas/${nasId}`,
    '/admin/payments',
    '/admin/audit',
    `/admin/audit?target=${encodeURIComponent(EVIL.userName)}`,
    '/admin/settings',
    `/admin/${encodeURIComponent(EVIL.nasIdentifier)}`,
  ];
  for (const url of pages) {
    const page = await admin.browser.get(url);
    assert.ok(page.statusCode === 200 || page.statusCode === 404, `${url}: ${page.statusCode}`);
    for (const raw of RAW) assert.doesNotMatch(page.body, raw, `${url} shows ${raw} raw`);
  }
  // Where the values are shown, they are text: the name on the people pages, the search echoed back.
  const person = (await admin.browser.get(`/admin/people/${mallory.id}`)).body;
  assert.ok(person.includes('&lt;img src=x onerror=alert(&quot;display-name&quot;)&gt;'), 'the name, escaped');
  const search = (await admin.browser.get(`/admin/sessions?q=${encodeURIComponent(EVIL.userName)}`)).body;
  assert.ok(search.includes('&lt;script&gt;alert(&quot;user-name&quot;)&lt;/script&gt;'), 'the query, escaped');
});
