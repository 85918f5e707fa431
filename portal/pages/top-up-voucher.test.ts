import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { SessionEnforcer } from '../../appliance/sessions/enforcer.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { createDynamicAuthorizationClient } from '../../radius/dynamic-authorization-client.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

const MB = 2 ** 20;

test('gateway mode: a throttled voucher guest redeems a top-up voucher on the status page and the firewall gives the full rate back, no new login', async (t) => {
  const arp = new Map([['10.77.0.8', 'aa:bb:cc:77:00:08']]);
  let enforcer: SessionEnforcer | null = null;
  const h = await startGuestPortal(t, {
    gateway: true,
    macOfAddress: (ip) => arp.get(ip) ?? null,
    limitsChanged: (id) => enforcer!.refreshLimits(id),
  });
  const coa = createDynamicAuthorizationClient({ clock: h.clock, logger: silentLogger, timeoutMs: 100, retries: 0 });
  t.after(() => coa.close());
  enforcer = new SessionEnforcer({
    store: h.store,
    clock: h.clock,
    port: coa,
    logger: silentLogger,
    gateway: { accessPort: h.accessPort, openEndedSeconds: h.config.gateway.openEndedSessionSeconds },
  });
  const day = await createPlan(h.store, h.clock, {
    name: 'Day, 100 MB',
    durationSeconds: 86_400,
    quotaBytes: 100 * MB,
    bandwidthUpKbps: 2_000,
    bandwidthDownKbps: 8_000,
    onQuotaExhausted: { action: 'throttle', upKbps: 128, downKbps: 256 },
  });
  const extra = await createPlan(h.store, h.clock, {
    name: 'Extra 500 MB',
    durationSeconds: null,
    quotaBytes: 500 * MB,
    visible: false,
  });
  const [dayCode] = (await createVoucherBatch(h.store, h.clock, { planId: day.id, count: 1, createdBy: 'staff' }))
    .codes;
  const [extraCode] = (await createVoucherBatch(h.store, h.clock, { planId: extra.id, count: 1, createdBy: 'staff' }))
    .codes;

  const phone = new FormClient(h.app, { remoteAddress: '10.77.0.8' });
  await phone.get('/portal');
  assert.equal((await phone.post('/portal/voucher', { code: dayCode!, terms: 'yes' })).statusCode, 303);
  const rateOf = () => h.accessPort.allowed().find((entry) => entry.ip === '10.77.0.8')?.downKbps;
  assert.equal(rateOf(), 8_000);

  // The day's data is spent: the firewall throttles the guest.
  const [session] = Object.values(h.store.db.sessions);
  await h.store.update((db) => {
    db.subscriptions[session!.subscriptionId]!.bytesUsed = 100 * MB;
  });
  await enforcer.apply([{ action: 'throttle', sessionId: session!.id, rate: { upKbps: 128, downKbps: 256 } }]);
  assert.equal(rateOf(), 256);

  const throttled = await phone.get('/portal/status');
  assert.match(throttled.body, /<b id="data-left">0 B<\/b>/);
  assert.match(throttled.body, /Or add the data of a voucher/);
  assert.doesNotMatch(
    throttled.body,
    /action="\/portal\/checkout"/,
    'paying needs an account; a voucher guest has none',
  );

  const wrong = await phone.post('/portal/top-up', { code: 'NOPE-NOPE-NOPE', topUp: session!.subscriptionId });
  assert.equal(wrong.statusCode, 400, wrong.body);
  assert.match(wrong.body, /role="alert"/);
  assert.equal(rateOf(), 256);

  const added = await phone.post('/portal/top-up', { code: extraCode!, topUp: session!.subscriptionId });
  assert.equal(added.statusCode, 303, added.body);
  assert.equal(added.headers.location, '/portal/status?done=top-up');
  assert.equal(rateOf(), 8_000, 'the same session has its full rate back');
  assert.equal(Object.keys(h.store.db.sessions).length, 1, 'no new session, no new login');
  const after = await phone.get('/portal/status?done=top-up');
  assert.match(after.body, /Data added: full speed is back\./);
  assert.match(after.body, /<b id="data-left">500 MB<\/b>/);

  const again = await phone.post('/portal/top-up', { code: extraCode!, topUp: session!.subscriptionId });
  assert.match(again.body, /role="alert"/, 'a voucher adds its data once');
});
