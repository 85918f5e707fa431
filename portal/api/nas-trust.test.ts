import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { NasObservations } from '../../appliance/nas/nas-observations.js';
import { flushNasTrust } from '../../appliance/nas/nas-trust.js';
import { consoleStaff } from '../admin/console-test-kit.js';
import { bearer, signedInAs, startAuthHarness } from '../auth/auth-test-harness.js';

test("an admin reads one NAS (by id or name) with what it showed so far, and every NAS's figures in the list", async (t) => {
  const h = await startAuthHarness({ withGuestJourney: true });
  t.after(() => h.close());
  const nas = await addNasClient(h.store, h.clock, { name: 'lobby', source: '192.0.2.10', secret: 'a-long-secret' });
  const seen = new NasObservations();
  const seenAt = h.clock.now();
  seen.seen(nas.id, seenAt);
  seen.accessRequest(nas.id, false, h.clock.now());
  for (const gap of [300, 320, 900]) seen.interimGap(nas.id, gap, 300, h.clock.now());
  await flushNasTrust(h.store, h.clock, seen);
  await h.store.update((db) => {
    db.nasTrust![nas.id]!.missingStops = 2;
  });
  const admin = bearer((await signedInAs(h, 'admin')).tokens);

  const one = await h.app.inject({ url: `/api/v1/nas/${nas.id}`, headers: admin });
  assert.equal(one.statusCode, 200, one.body);
  assert.equal(one.json().name, 'lobby');
  assert.equal(one.json().secret, undefined, 'never the secret');
  assert.deepEqual(one.json().trust, {
    lastSeenAt: seenAt,
    interim: { medianSeconds: 320, configuredSeconds: 300, samples: 3 },
    missingStops: 2,
    messageAuthenticator: { sendsOnAccessRequest: false, signedAccessRequests: 0, unsignedAccessRequests: 1 },
    acksButKeepsForwarding: 0,
  });
  const byName = await h.app.inject({ url: '/api/v1/nas/lobby', headers: admin });
  assert.equal(byName.json().id, nas.id);

  const list = await h.app.inject({ url: '/api/v1/nas', headers: admin });
  assert.equal(list.json().nas[0].trust.missingStops, 2);

  const missing = await h.app.inject({ url: '/api/v1/nas/nowhere', headers: admin });
  assert.equal(missing.statusCode, 404);
  const operator = bearer((await signedInAs(h, 'operator')).tokens);
  assert.equal((await h.app.inject({ url: `/api/v1/nas/${nas.id}`, headers: operator })).statusCode, 403);
});

test("the console's NAS page shows the same figures, in English and German, without JavaScript", async (t) => {
  const h = await startAuthHarness({ withGuestJourney: true });
  t.after(() => h.close());
  const nas = await addNasClient(h.store, h.clock, { name: 'lobby', source: '192.0.2.10', secret: 'a-long-secret' });
  const seen = new NasObservations();
  seen.accessRequest(nas.id, true, h.clock.now());
  for (const gap of [290, 300, 310]) seen.interimGap(nas.id, gap, 300, h.clock.now());
  await flushNasTrust(h.store, h.clock, seen);
  await h.store.update((db) => {
    db.nasTrust![nas.id]!.acksButKeepsForwarding = 3;
  });
  const { browser } = await consoleStaff(h, 'admin');
  const page = await browser.get(`/admin/nas/${nas.id}`);
  assert.equal(page.statusCode, 200, page.body);
  const table = /<table id="nas-trust">[\s\S]*?<\/table>/.exec(page.body)?.[0] ?? '';
  assert.match(table, /Interim updates: median gap \/ configured<\/th><td>300 s \/ 300 s/);
  assert.match(table, /Message-Authenticator on Access-Requests<\/th><td>yes \(1 with, 0 without\)/i);
  assert.match(table, /Disconnects acknowledged but not carried out<\/th><td>3/);
  const german = await browser.get(`/admin/nas/${nas.id}`, { 'accept-language': 'de' });
  assert.match(german.body, /Bestätigte, aber nicht ausgeführte Trennungen<\/th><td>3/);
});
