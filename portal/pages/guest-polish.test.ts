import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { PLAN_COMMANDS } from '../../appliance/cli/commands/plan.js';
import type { CommandContext } from '../../appliance/cli/command.js';
import { loadConfig } from '../../appliance/config/load-config.js';
import { silentLogger } from '../../shared/logger.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { tempStore } from '../../appliance/testing/temp-store.js';
import { postJson, startAuthHarness } from '../auth/auth-test-harness.js';
import { startPaymentsWorld } from '../payments/payments-harness.js';
import { startStripeFake } from '../stripe-fake/stripe-fake.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

test('the "email confirmed" page looks like the portal and leads back to it', async () => {
  const h = await startAuthHarness();
  try {
    const registered = await postJson(h.app, '/api/v1/auth/register', {
      email: 'confirm@example.test',
      password: 'correct horse battery staple',
    });
    assert.equal(registered.statusCode, 202, registered.body);
    await h.auth.accounts.settled();
    const token = h.mail.lastTokenTo('confirm@example.test')!;
    const confirmed = await h.app.inject({
      method: 'POST',
      url: '/auth/verify-email',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${token}`,
    });
    assert.equal(confirmed.statusCode, 200);
    assert.match(confirmed.body, /confirmed/);
    assert.match(confirmed.body, /<style>[^<]*--p:#/, 'the portal’s stylesheet');
    assert.match(confirmed.body, /<a href="\/portal">Back to the portal<\/a>/);
  } finally {
    await h.close();
  }
});

test('the account page offers SSH keys only to a guest whose plans have SSH', async (t) => {
  const h = await startGuestPortal(t);
  const browser = new FormClient(h.app);
  browser.cookies.set('tp_access', await h.tokenFor('guest'));
  const page = await browser.get('/portal/account');
  assert.equal(page.statusCode, 200);
  assert.doesNotMatch(page.body, /SSH/);
});

test('"One day" reads the same on the portal and in turnpike plan list', async (t) => {
  const h = await startGuestPortal(t);
  await createPlan(h.store, h.clock, { name: 'One day', priceMinor: 500, durationSeconds: 86_400 });
  const portal = await new FormClient(h.app).get('/portal');
  assert.match(portal.body, /1 day\b/);
  assert.doesNotMatch(portal.body, /24 h/);
  const german = await new FormClient(h.app, { headers: { 'accept-language': 'de' } }).get('/portal');
  assert.match(german.body, /1 Tag\b/);

  const { config } = loadConfig({ env: {} });
  const store = await tempStore(t);
  await createPlan(store, new ManualClock(), { name: 'One day', priceMinor: 500, durationSeconds: 86_400 });
  const context: CommandContext = {
    config,
    store,
    clock: new ManualClock(),
    logger: silentLogger,
    services: undefined as never,
  };
  const [line] = await PLAN_COMMANDS.find((command) => command.path.join(' ') === 'plan list')!.run(context, []);
  assert.match(line!, /One day\s+5\.00 EUR\s+1 day\s/);
});

test('the terms checkbox links to the terms, on a page that works without JavaScript', async (t) => {
  const h = await startGuestPortal(t);
  await createPlan(h.store, h.clock, { name: 'Hour', priceMinor: 250, durationSeconds: 3600 });
  const browser = new FormClient(h.app);
  for (const path of ['/portal/voucher', '/portal/signup']) {
    const page = await browser.get(path);
    assert.match(page.body, /I accept the terms of use \(<a href="\/portal\/terms">Read the terms<\/a>\)/, path);
  }
  const terms = await browser.get('/portal/terms');
  assert.equal(terms.statusCode, 200);
  assert.match(terms.body, /<h1>Terms of use<\/h1>/);
  assert.match(terms.body, /Use this network lawfully and fairly/);
});

test('the hosted checkout shows the signed-in guest’s email, as Stripe fills it from the customer', async (t) => {
  const fake = await startStripeFake({ webhookSecret: 'whsec_test', apiKey: 'sk_test_polish' });
  t.after(() => fake.close());
  const api = async (path: string, form: Record<string, string>): Promise<{ id: string }> => {
    const response = await fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_polish', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    return (await response.json()) as { id: string };
  };
  const customer = await api('/v1/customers', { email: 'guest@example.test' });
  const product = await api('/v1/products', { name: 'Hour' });
  const price = await api('/v1/prices', { product: product.id, unit_amount: '250', currency: 'eur' });
  const session = await api('/v1/checkout/sessions', {
    mode: 'payment',
    customer: customer.id,
    'line_items[0][price]': price.id,
    'line_items[0][quantity]': '1',
    success_url: 'http://127.0.0.1:9/ok',
    cancel_url: 'http://127.0.0.1:9/cancel',
  });
  const page = await (await fetch(`${fake.url}/c/pay/${session.id}`)).text();
  assert.match(page, /value="guest@example\.test"/);
});

test('a card declined at checkout shows as a failed payment on the account page, for a subscription too', async (t) => {
  const world = await startPaymentsWorld(t);
  const guest = await world.guest();
  for (const plan of [world.plans.hour, world.plans.monthly]) {
    const checkout = await world.appliance.payments.startCheckout({
      userId: guest.userId,
      planId: plan.id,
      successUrl: `${world.appliance.url}/portal/status`,
      cancelUrl: `${world.appliance.url}/portal`,
    });
    assert.equal(world.fake.payCheckout(checkout.sessionId, '4000000000000002').ok, false);
  }
  await world.fake.webhooksIdle();
  const browser = new FormClient(world.appliance.app);
  browser.cookies.set('tp_access', guest.token);
  const account = await browser.get('/portal/account');
  const payments = account.body.slice(account.body.indexOf('id="pay-h"'));
  assert.equal((payments.match(/data-status="failed"/g) ?? []).length, 2, payments);
  assert.match(payments, /Monthly · [^·]+ · <b>[^<]+<\/b> · Your card was declined\./);
  assert.doesNotMatch(payments, /data-status="pending"/);
});
