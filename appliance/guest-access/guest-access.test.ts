import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isTurnpikeError } from '../../shared/errors.js';
import { takeFreeTier } from '../subscriptions/free-tier.js';
import { gatewayVenue, OPEN_ENDED_SECONDS } from '../testing/gateway-guests.js';

/** A gateway venue where user u1 has paid for a day, on `maxDevices` devices. */
async function fixture(t: TestContext, maxDevices = 2) {
  const venue = await gatewayVenue(t);
  await venue.pay(await venue.plan({ name: 'Day', durationSeconds: 86_400, maxDevices, bandwidthDownKbps: 4000 }));
  return venue;
}

test('gateway mode: a login opens the firewall for the client with the time left and the plan rates', async (t) => {
  const { access, accessPort, clock } = await fixture(t);
  const result = await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:bb:cc:00:00:01',
    ip: '10.1.0.5',
    deviceId: null,
    mode: 'gateway',
  });
  assert.equal(result.mode, 'gateway');
  const [entry] = accessPort.allowed();
  assert.equal(entry?.ip, '10.1.0.5');
  assert.equal(entry?.seconds, 86_400);
  assert.equal(entry?.downKbps, 4000);
  clock.advance(3600_000);
  await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:bb:cc:00:00:01',
    ip: '10.1.0.5',
    deviceId: null,
    mode: 'gateway',
  });
  assert.equal(accessPort.allowed().length, 1, 'logging in again keeps one entry');
  assert.equal(accessPort.allowed()[0]!.seconds, 86_400 - 3600);
  await access.disconnect({ ownerKey: 'user:u1', ip: '10.1.0.5' });
  assert.equal(accessPort.isAllowed('10.1.0.5'), false);
});

test('gateway mode gets the limits a NAS would: the throttle rate once a quota is spent, the configured time for a plan without an end', async (t) => {
  const { accessPort, store, plan, pay, connect, ipOf } = await fixture(t);
  const subscription = await pay(
    await plan({
      name: 'Fair use',
      durationSeconds: null,
      quotaBytes: 1000,
      bandwidthDownKbps: 8000,
      onQuotaExhausted: { action: 'throttle', upKbps: 128, downKbps: 256 },
    }),
    'u2',
  );
  await store.update((db) => {
    db.subscriptions[subscription.id]!.bytesUsed = 1000;
  });
  await connect(2);
  const entry = accessPort.allowed().find((allowed) => allowed.ip === ipOf(2));
  assert.equal(entry?.seconds, OPEN_ENDED_SECONDS, 'gateway.openEndedSessionSeconds, not a fixed day');
  assert.deepEqual([entry?.upKbps, entry?.downKbps], [128, 256], 'the throttle rate, as the NAS gets it');
});

test('the device limit counts live sessions; a phone with a new random MAC replaces its binding', async (t) => {
  const { access, store } = await fixture(t, 2);
  const phone = await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:00:00:00:00:01',
    ip: '10.1.0.1',
    deviceId: null,
    mode: 'gateway',
  });
  await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:00:00:00:00:02',
    ip: '10.1.0.2',
    deviceId: null,
    mode: 'gateway',
  });
  await assert.rejects(
    access.connect({ ownerKey: 'user:u1', mac: 'aa:00:00:00:00:03', ip: '10.1.0.3', deviceId: null, mode: 'gateway' }),
    (err) =>
      isTurnpikeError(err, 'TP_ERR_DEVICE_LIMIT') && err.details?.maxDevices === 2 && err.details.connected === 2,
  );
  await access.disconnect({ ownerKey: 'user:u1', ip: '10.1.0.2' });
  await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:00:00:00:00:03',
    ip: '10.1.0.3',
    deviceId: null,
    mode: 'gateway',
  });
  // The phone comes back on the same address with a new random MAC and its cookie.
  await access.connect({
    ownerKey: 'user:u1',
    mac: 'ee:00:00:00:00:09',
    ip: '10.1.0.1',
    deviceId: phone.device.id,
    mode: 'gateway',
  });
  const macs = Object.values(store.db.devices)
    .map((d) => d.mac)
    .sort();
  assert.deepEqual(macs, ['aa:00:00:00:00:02', 'aa:00:00:00:00:03', 'ee:00:00:00:00:09']);
});

test('controller mode mints a one-time credential bound to the MAC instead of touching a firewall', async (t) => {
  const { access, accessPort, store } = await fixture(t);
  const result = await access.connect({
    ownerKey: 'user:u1',
    mac: 'aa:bb:cc:00:00:01',
    ip: null,
    deviceId: null,
    mode: 'controller',
  });
  assert.equal(result.mode, 'controller');
  if (result.mode !== 'controller') return;
  assert.equal(store.db.portalCredentials[result.credential.username]?.mac, 'aa:bb:cc:00:00:01');
  assert.equal(accessPort.allowed().length, 0);
});

test('an owner without a usable subscription is told why', async (t) => {
  const { access, clock } = await fixture(t);
  clock.advance(86_400_000);
  await assert.rejects(
    access.connect({ ownerKey: 'user:u1', mac: null, ip: '10.0.0.1', deviceId: null, mode: 'gateway' }),
    (err) => isTurnpikeError(err, 'TP_ERR_ENTITLEMENT_EXPIRED'),
  );
});

test('the free tier is taken once per device per period, whichever account asks', async (t) => {
  const { store, clock, plan } = await gatewayVenue(t);
  const free = await plan({ name: 'Free', durationSeconds: 1800, freeTier: { periodSeconds: 86_400 } });
  const first = await takeFreeTier(store, clock, { userId: 'u1', planId: free.id, deviceKey: 'aa:bb:cc:00:00:01' });
  assert.equal(first.source, 'free-tier');
  assert.equal(first.endsAt, clock.now() + 1800_000);
  const used = (err: unknown) => isTurnpikeError(err, 'TP_ERR_FREE_TIER_USED');
  await assert.rejects(
    takeFreeTier(store, clock, { userId: 'u2', planId: free.id, deviceKey: 'aa:bb:cc:00:00:01' }),
    used,
  );
  await assert.rejects(
    takeFreeTier(store, clock, { userId: 'u1', planId: free.id, deviceKey: 'aa:bb:cc:00:00:02' }),
    used,
  );
  clock.advance(86_400_000);
  await takeFreeTier(store, clock, { userId: 'u2', planId: free.id, deviceKey: 'aa:bb:cc:00:00:01' });
});

test('a gateway guest whose MAC the box cannot see is told to reconnect, and nothing is opened or written', async (t) => {
  const { access, accessPort, store } = await fixture(t);
  await assert.rejects(
    access.connect({ ownerKey: 'user:u1', mac: null, ip: '10.1.0.9', deviceId: null, mode: 'gateway' }),
    (err) => isTurnpikeError(err, 'TP_ERR_DEVICE_UNSEEN') && /reconnect to the Wi-Fi/.test((err as Error).message),
  );
  assert.equal(accessPort.isAllowed('10.1.0.9'), false);
  assert.deepEqual(Object.keys(store.db.sessions), []);
  assert.deepEqual(Object.keys(store.db.devices), []);
});

test('a guest whose last session the box could not end yet is told to wait, as a RADIUS login would be', async (t) => {
  const { access, store } = await fixture(t, 2);
  const first = {
    ownerKey: 'user:u1',
    mac: 'aa:00:00:00:00:01',
    ip: '10.1.0.1',
    deviceId: null,
    mode: 'gateway',
  } as const;
  const opened = await access.connect(first);
  assert.equal(opened.mode, 'gateway');
  await store.update((db) => {
    db.sessions[opened.session.id]!.disconnectPendingSince = Date.now();
  });
  await assert.rejects(access.connect({ ...first, mac: 'aa:00:00:00:00:02', ip: '10.1.0.2' }), (err) =>
    isTurnpikeError(err, 'TP_ERR_DISCONNECT_PENDING'),
  );
});
