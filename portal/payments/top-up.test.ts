import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { StoreAccessPolicy } from '../../appliance/sessions/access-policy.js';
import { SessionEnforcer } from '../../appliance/sessions/enforcer.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import { createDynamicAuthorizationClient } from '../../radius/dynamic-authorization-client.js';
import { coaNasConfig, freeUdpPort, startFreeRadius } from '../../radius/freeradius-harness.js';
import { radclient } from '../../radius/radclient-driver.js';
import { startRadiusServer } from '../../radius/server.js';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { FormClient } from '../testing/form-client.js';
import { startPaymentsWorld } from './payments-harness.js';

const SECRET = 'radius-secret-for-top-ups';
const GIB = 2 ** 30;
const DAY = 86_400;

interface CoaRecord {
  kind: string;
  outcome: string;
  acctSessionId: string;
  reason: string;
}

async function waitFor(probe: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('timed out waiting');
}

test('a throttled guest buys a top-up on the status page: the NAS gets a CoA with the full rate, no new login, and data is left again', async (t) => {
  if (!requireSystem(t, { tools: ['freeradius', 'radclient'] })) return;
  const world = await startPaymentsWorld(t);
  const { store, app } = world.appliance;
  const clock = systemClock;
  const dir = await mkdtemp(join(tmpdir(), 'tp-h13n-topup-'));
  const coaPort = await freeUdpPort();
  const nas = await startFreeRadius(dir, coaNasConfig(dir, { port: coaPort, secret: SECRET }));
  // FreeRADIUS 3.2.1 signs none of its replies: as a NAS it must be one not held to Message-Authenticator.
  await addNasClient(store, clock, {
    name: 'lobby',
    source: '127.0.0.1',
    secret: SECRET,
    dialect: 'coovachilli',
    coaPort,
    requireMessageAuthenticator: false,
  });
  const coa = createDynamicAuthorizationClient({ clock, logger: silentLogger, timeoutMs: 300, retries: 1 });
  const enforcer = new SessionEnforcer({ store, clock, port: coa, logger: silentLogger });
  // As the appliance wires it: a payment that changes an entitlement tells the live sessions.
  world.appliance.payments.onEntitlementChanged = async (id) => {
    await enforcer.refreshLimits(id);
  };
  const radius = await startRadiusServer({
    config: { ...world.config.radius, listen: ['127.0.0.1'], authPort: 0, acctPort: 0, rejectDelayMs: 0 },
    store,
    clock,
    logger: silentLogger,
    policy: new StoreAccessPolicy({
      store,
      clock,
      verifyPassword: (password, hash) => bcrypt.compare(password, hash),
      passwordCacheSeconds: 0,
    }),
    enforcer,
  });
  t.after(async () => {
    await radius.close();
    await coa.close();
    await nas.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const week = await createPlan(store, clock, {
    name: 'Week, 1 GB',
    priceMinor: 500,
    currency: 'EUR',
    durationSeconds: 7 * DAY,
    quotaBytes: GIB,
    bandwidthUpKbps: 2_000,
    bandwidthDownKbps: 10_000,
    onQuotaExhausted: { action: 'throttle', upKbps: 128, downKbps: 256 },
  });
  const extra = await createPlan(store, clock, {
    name: 'Extra 2 GB',
    priceMinor: 300,
    currency: 'EUR',
    durationSeconds: null,
    quotaBytes: 2 * GIB,
  });
  const guest = await world.guest();
  const subscription = await grantSubscription(store, clock, {
    userId: guest.userId,
    voucherCode: null,
    plan: week,
    source: 'payment',
    sourceRef: 'test',
  });

  // The guest's session spends the week's gigabyte: the NAS is told the throttle rate.
  const acct = `127.0.0.1:${radius.acctPort}`;
  const account = async (body: string): Promise<void> => {
    const reply = await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Session-Id = "topup-1"\nClass = "tp1:${subscription.id}"\n${body}`,
    );
    assert.equal(reply.reply, 'Accounting-Response', reply.output);
  };
  await account('Acct-Status-Type = Start\n');
  await account(`Acct-Status-Type = Interim-Update\nAcct-Output-Octets = ${GIB + 1}\n`);
  const coaHistory = (): Promise<CoaRecord[]> => store.history<CoaRecord>('coa').readAll();
  await waitFor(async () => (await coaHistory()).some((entry) => entry.reason === 'quota-spent'));
  assert.match(nas.output(), /WISPr-Bandwidth-Max-Down = 256000/, 'throttled');

  // The status page, without JavaScript: data spent, and plans that add data.
  const browser = new FormClient(app);
  await browser.get('/portal/login');
  const login = await browser.post('/portal/login', { email: guest.email, password: guest.password });
  assert.equal(login.statusCode, 303, login.body);
  const german = await browser.get('/portal/status?lang=de');
  assert.match(german.body, /Wieder volle Geschwindigkeit/);
  assert.match(german.body, /2,0 GB für 3,00\s€ nachbuchen/);
  const throttled = await browser.get('/portal/status?lang=en');
  assert.match(throttled.body, /<b id="data-left">0 B<\/b>/);
  assert.match(throttled.body, /Get full speed back/);
  assert.match(throttled.body, /<button type="submit" class="wide">Add 2\.0 GB for €3\.00<\/button>/);
  assert.match(throttled.body, /Add 1\.0 GB for €5\.00/, 'every one-off plan with data adds its data');

  const checkout = await browser.post('/portal/checkout', { planId: extra.id, topUp: subscription.id });
  assert.equal(checkout.statusCode, 303, checkout.body);
  const sessionId = checkout.headers.location!.split('/').pop()!;
  const coaBefore = (await coaHistory()).length;
  assert.ok(world.fake.payCheckout(sessionId, TEST_CARDS.success).ok);
  await world.fake.webhooksIdle();

  // The same session, on the same login, gets its full rate back by CoA.
  await waitFor(async () => (await coaHistory()).length > coaBefore);
  const lifted = (await coaHistory()).at(-1)!;
  assert.deepEqual(
    [lifted.kind, lifted.reason, lifted.outcome, lifted.acctSessionId],
    ['coa', 'limits-changed', 'ack', 'topup-1'],
  );
  const lastCoa = nas.output().slice(nas.output().lastIndexOf('Received CoA-Request'));
  assert.match(lastCoa, /Acct-Session-Id = "topup-1"/);
  assert.match(lastCoa, /WISPr-Bandwidth-Max-Down = 10000000/);
  assert.match(lastCoa, /WISPr-Bandwidth-Max-Up = 2000000/);
  assert.equal(Object.keys(store.db.subscriptions).length, 1, 'the running subscription grew; none was added');
  assert.equal(store.db.subscriptions[subscription.id]!.topUpBytes, 2 * GIB);

  const back = await browser.get(`/portal/checkout/return?session_id=${sessionId}`);
  assert.equal(back.headers.location, '/portal/status?done=top-up', 'back to the status page, not to a new login');
  const after = await browser.get('/portal/status?done=top-up');
  assert.match(after.body, /Data added: full speed is back\./);
  assert.match(after.body, /<b id="data-left">2\.0 GB<\/b>/);
  assert.doesNotMatch(after.body, /Get full speed back/, 'nothing to lift any more');
});
