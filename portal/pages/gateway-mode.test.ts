import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlan } from '../../appliance/plans/plans.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

test('gateway mode: a voucher opens the firewall for the guest, the OS probe turns green, log out closes it again', async (t) => {
  const arp = new Map([['10.77.0.5', 'aa:bb:cc:77:00:05']]);
  const h = await startGuestPortal(t, { gateway: true, macOfAddress: (ip) => arp.get(ip) ?? null });
  const plan = await createPlan(h.store, h.clock, { name: 'Hour', durationSeconds: 3600, bandwidthDownKbps: 8000 });
  const { codes } = await createVoucherBatch(h.store, h.clock, { planId: plan.id, count: 1, createdBy: 'staff' });
  const phone = new FormClient(h.app, { remoteAddress: '10.77.0.5' });
  const probe = () =>
    h.app.inject({
      url: '/generate_204',
      headers: { host: 'connectivitycheck.gstatic.com' },
      remoteAddress: '10.77.0.5',
    });
  assert.equal((await probe()).statusCode, 302);

  await phone.get('/portal');
  const redeemed = await phone.post('/portal/voucher', { code: codes[0]!, terms: 'yes' });
  assert.equal(redeemed.statusCode, 303);
  assert.equal(redeemed.headers.location, '/portal/status');
  const [entry] = h.accessPort.allowed();
  assert.equal(entry?.ip, '10.77.0.5');
  assert.equal(entry?.seconds, 3600);
  assert.equal(entry?.downKbps, 8000);
  assert.equal(entry?.mac, 'aa:bb:cc:77:00:05', 'the MAC comes from the gateway’s ARP table');
  assert.equal(Object.values(h.store.db.devices)[0]?.mac, 'aa:bb:cc:77:00:05');
  assert.equal((await probe()).statusCode, 204);

  const status = await phone.get('/portal/status');
  assert.match(status.body, /You are connected/);
  assert.match(status.body, /id="time-left">1 h</);

  await phone.post('/portal/logout', {});
  assert.equal(h.accessPort.isAllowed('10.77.0.5'), false);
  assert.equal((await probe()).statusCode, 302);
  assert.equal(Object.keys(h.store.db.sessions).length, 0);
});

test('gateway mode: any intercepted page of a captive client leads to the portal; the portal’s own unknown paths stay 404', async (t) => {
  const h = await startGuestPortal(t, { gateway: true });
  const intercepted = await h.app.inject({
    url: '/news/today?x=1',
    headers: { host: 'example.com' },
    remoteAddress: '10.77.0.9',
  });
  assert.equal(intercepted.statusCode, 302);
  assert.equal(intercepted.headers.location, 'http://portal.test/portal');
  const own = await h.app.inject({ url: '/nope', headers: { host: 'portal.test' } });
  assert.equal(own.statusCode, 404);
  assert.equal(own.json().error.code, 'TP_ERR_NOT_FOUND');
  const api = await h.app.inject({ url: '/api/v1/nope', headers: { host: 'example.com' } });
  assert.equal(api.statusCode, 404);
});
