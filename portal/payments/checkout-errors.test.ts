import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import Stripe from 'stripe';
import { silentLogger } from '../../shared/logger.js';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { createPayments } from '../../appliance/payments/payments.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';
import { startPaymentsWorld } from './payments-harness.js';

const CHALLENGE = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const coova = new URLSearchParams({
  res: 'notyet',
  uamip: '10.1.0.1',
  uamport: '3990',
  challenge: CHALLENGE,
  mac: 'aa:bb:cc:00:00:09',
  ip: '10.1.0.50',
}).toString();

function assertErrorPage(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.doesNotMatch(res.body, /^\s*\{/, 'not the JSON error body');
  assert.match(res.body, /<p class="error" role="alert">/);
  assert.match(res.body, /<a href="\/portal">/, 'a way back');
}

test('a failed checkout form shows the portal’s error page, in the guest’s language, and keeps the NAS hand-off', async (t) => {
  const world = await startPaymentsWorld(t);
  const { app, store } = world.appliance;
  await addNasClient(store, { now: () => Date.now() }, { name: 'chilli', source: '10.1.0.1', dialect: 'coovachilli' });
  const free = await createPlan(
    store,
    { now: () => Date.now() },
    { name: 'Free', freeTier: { periodSeconds: 86_400 } },
  );
  const guest = await world.guest();
  const browser = new FormClient(app);
  browser.cookies.set('tp_access', guest.token);
  const landing = await browser.get(`/portal?${coova}`);
  const nas = /name="nas" value="([^"]+)"/.exec(landing.body)?.[1] ?? '';
  assert.ok(nas !== '', 'the landing page carries the hand-off');
  // The hand-off now rides only in the form, as when the cookie was lost.
  browser.cookies.delete('tp_nas');

  const unknown = await browser.post('/portal/checkout', { planId: '<script>x</script>', nas });
  assertErrorPage(unknown, 404);
  assert.match(unknown.body, /no plan &lt;script&gt;x&lt;\/script&gt;/);
  assert.ok(!unknown.body.includes('<script>'));
  assert.ok(browser.cookies.has('tp_nas'), 'the hand-off is kept for the way back');
  const back = await browser.get('/portal');
  const handoffOf = (token: string | undefined) =>
    (JSON.parse(Buffer.from(token?.split('.')[0] ?? '', 'base64url').toString()) as { h: unknown }).h;
  const carried = /name="nas" value="([^"]+)"/.exec(back.body)?.[1];
  assert.deepEqual(handoffOf(carried), handoffOf(nas), 'back on the landing page, still for this NAS and MAC');

  assertErrorPage(await browser.post('/portal/checkout', { planId: free.id }), 400);
  const forged = await browser.post('/portal/checkout', { planId: world.plans.hour.id, _csrf: 'forged' });
  assertErrorPage(forged, 403);
  assert.match(forged.body, /The form has expired/);

  const german = new FormClient(app, { headers: { 'accept-language': 'de' } });
  german.cookies.set('tp_access', guest.token);
  await german.get('/portal');
  const notFound = await german.post('/portal/checkout', { planId: 'nope' });
  assertErrorPage(notFound, 404);
  assert.match(notFound.body, /<html lang="de">/);
  assert.match(notFound.body, /Nicht gefunden\./);

  const stranger = new FormClient(app);
  await stranger.get('/portal');
  const signIn = await stranger.post('/portal/checkout', { planId: world.plans.hour.id });
  assert.equal(signIn.statusCode, 303);
  assert.equal(signIn.headers.location, '/portal/login', 'not signed in: sent to log in');

  const badReturn = await browser.get('/portal/checkout/return?session_id=cs_test_nobody');
  assertErrorPage(badReturn, 404);
});

test('with the payment provider unreachable, the guest reads "try again shortly" on a page (portal as the composition root builds it)', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const h = await startGuestPortal(t, {
    payments: ({ store, clock, config }) =>
      createPayments({
        store,
        clock,
        config,
        logger: silentLogger,
        stripe: new Stripe('sk_test_unreachable', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 }),
      }),
  });
  const plan = await createPlan(h.store, h.clock, { name: 'Day', priceMinor: 500, durationSeconds: 86_400 });
  const browser = new FormClient(h.app);
  browser.cookies.set('tp_access', await h.tokenFor('guest'));
  await browser.get('/portal');
  const res = await browser.post('/portal/checkout', { planId: plan.id });
  assertErrorPage(res, 503);
  assert.match(res.body, /The payment provider cannot be reached; try again shortly/);
});
