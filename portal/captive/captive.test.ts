import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GuestAccess } from '../../appliance/guest-access/guest-access.js';
import { silentLogger } from '../../shared/logger.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { startGuestPortal, type GuestPortalHarness } from '../testing/guest-portal-harness.js';
import { PROBES } from './probes.js';

const GUEST_IP = '10.20.0.7';
const STRANGER_IP = '10.20.0.8';

async function withAuthorisedClient(t: TestContext): Promise<GuestPortalHarness> {
  const h = await startGuestPortal(t, { gateway: true });
  const plan = await createPlan(h.store, h.clock, {
    name: 'Hour',
    priceMinor: 200,
    durationSeconds: 3600,
    quotaBytes: 1_000_000,
  });
  await grantSubscription(h.store, h.clock, {
    userId: 'u1',
    voucherCode: null,
    plan,
    source: 'payment',
    sourceRef: null,
  });
  const access = new GuestAccess({
    store: h.store,
    clock: h.clock,
    accessPort: h.accessPort,
    logger: silentLogger,
    interimIntervalSeconds: 300,
    openEndedSeconds: 86_400,
  });
  await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:bb:cc:00:00:07',
    ip: GUEST_IP,
    deviceId: null,
    mode: 'gateway',
  });
  return h;
}

const cases = [
  {
    os: 'Apple',
    host: 'captive.apple.com',
    url: '/hotspot-detect.html',
    status: 200,
    body: '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>',
  },
  {
    os: 'Apple (bare host)',
    host: 'captive.apple.com',
    url: '/',
    status: 200,
    body: '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>',
  },
  { os: 'Android', host: 'connectivitycheck.gstatic.com', url: '/generate_204', status: 204, body: '' },
  {
    os: 'Windows',
    host: 'www.msftconnecttest.com',
    url: '/connecttest.txt',
    status: 200,
    body: 'Microsoft Connect Test',
  },
  { os: 'Windows NCSI', host: 'www.msftncsi.com', url: '/ncsi.txt', status: 200, body: 'Microsoft NCSI' },
  { os: 'Firefox', host: 'detectportal.firefox.com', url: '/success.txt', status: 200, body: 'success\n' },
  {
    os: 'Firefox canonical',
    host: 'detectportal.firefox.com',
    url: '/canonical.html',
    status: 200,
    body: '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>',
  },
];

test('each OS probe: an unauthorised client is redirected to the portal, an authorised one gets exactly what its OS expects', async (t) => {
  const h = await withAuthorisedClient(t);
  assert.equal(PROBES.length, 6);
  for (const probe of cases) {
    const stranger = await h.app.inject({
      method: 'GET',
      url: probe.url,
      headers: { host: probe.host },
      remoteAddress: STRANGER_IP,
    });
    assert.equal(stranger.statusCode, 302, `${probe.os} stranger`);
    assert.equal(stranger.headers.location, 'http://portal.test/portal', `${probe.os} stranger`);
    const guest = await h.app.inject({
      method: 'GET',
      url: probe.url,
      headers: { host: probe.host },
      remoteAddress: GUEST_IP,
    });
    assert.equal(guest.statusCode, probe.status, `${probe.os} guest`);
    assert.equal(guest.body, probe.body, `${probe.os} guest`);
    assert.match(String(guest.headers['cache-control']), /no-store/);
  }
});

test('a probe stops succeeding the moment the time runs out', async (t) => {
  const h = await withAuthorisedClient(t);
  h.clock.advance(3600_000);
  const res = await h.app.inject({ method: 'GET', url: '/generate_204', remoteAddress: GUEST_IP });
  assert.equal(res.statusCode, 302);
});

test('RFC 8908: captive+json per client, with time, data and whether the session can be extended', async (t) => {
  const h = await withAuthorisedClient(t);
  h.clock.advance(600_000);
  const guest = await h.app.inject({ method: 'GET', url: '/captive-portal/api', remoteAddress: GUEST_IP });
  assert.equal(guest.statusCode, 200);
  assert.equal(guest.headers['content-type'], 'application/captive+json');
  assert.match(String(guest.headers['cache-control']), /private/);
  assert.deepEqual(guest.json(), {
    captive: false,
    'user-portal-url': 'http://portal.test/portal',
    'venue-info-url': 'http://portal.test/portal',
    'seconds-remaining': 3000,
    'bytes-remaining': 1_000_000,
    'can-extend-session': true,
  });
  const stranger = await h.app.inject({ method: 'GET', url: '/captive-portal/api', remoteAddress: STRANGER_IP });
  const body = stranger.json();
  assert.equal(body.captive, true);
  assert.equal(body['user-portal-url'], 'http://portal.test/portal');
  assert.equal(body['seconds-remaining'], undefined);
});
