import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { systemClock } from '../../shared/clock.js';
import { loadConfig } from '../../appliance/config/load-config.js';
import { silentLogger } from '../../shared/logger.js';
import { openStore } from '../../appliance/open-store.js';
import { startPayments, type RunningPayments } from '../../appliance/payments/start-payments.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { userRecord } from '../../appliance/testing/user-record.js';
import { FAKE_STATE_FILE, startEmbeddedStripeFake, type EmbeddedStripeFake } from './embedded-fake.js';

const DAY = 86_400;
const CARD = '4242424242424242';

test('the embedded Stripe fake keeps its state across a stop and start: buy, restart, buy again, renew by the test clock', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tp-fake-restart-'));
  const store = await openStore({ dir: dataDir });
  t.after(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const { config } = loadConfig({ env: {}, embedded: true, overrides: { dataDir } });
  const enforcer = { endSubscription: async () => [], refreshLimits: async () => [] };
  let embedded: EmbeddedStripeFake | null = null;
  const start = async (): Promise<{ running: RunningPayments; fake: EmbeddedStripeFake['fake'] }> => {
    const running = await startPayments({
      config,
      embedded: true,
      store,
      clock: systemClock,
      logger: silentLogger,
      enforcer,
      startEmbeddedFake: async (c) => (embedded = await startEmbeddedStripeFake(c)),
    });
    assert.ok(running && embedded);
    await running.portalListening('http://127.0.0.1:9');
    return { running, fake: (embedded as EmbeddedStripeFake).fake };
  };
  const buy = async (running: RunningPayments, fake: EmbeddedStripeFake['fake'], planId: string) => {
    const checkout = await running.payments.startCheckout({
      userId: 'u1',
      planId,
      successUrl: 'http://127.0.0.1:9/done',
      cancelUrl: 'http://127.0.0.1:9/cancel',
    });
    assert.equal(fake.payCheckout(checkout.sessionId, CARD).ok, true);
    return running.payments.confirmCheckout(checkout.sessionId, 'u1');
  };

  const now = systemClock.now();
  await store.update((db) => {
    db.users.u1 = userRecord({ id: 'u1', email: 'guest@example.test' }, now);
  });
  const monthly = await createPlan(store, systemClock, {
    name: 'Monthly',
    priceMinor: 1900,
    durationSeconds: 30 * DAY,
    recurring: true,
  });
  const hour = await createPlan(store, systemClock, { name: 'One hour', priceMinor: 200, durationSeconds: 3600 });

  const first = await start();
  const bought = await buy(first.running, first.fake, monthly.id);
  assert.equal(bought.status, 'paid');
  await first.running.stop();

  const second = await start();
  assert.equal(
    (await buy(second.running, second.fake, monthly.id)).status,
    'paid',
    'a plan bought before the restart can be bought again',
  );
  assert.equal((await buy(second.running, second.fake, hour.id)).status, 'paid');
  const file = await stat(join(dataDir, FAKE_STATE_FILE));
  assert.equal(file.mode & 0o777, 0o600, 'the state file is private');

  const subscriptionId = bought.subscriptionId!;
  const endsBefore = store.db.subscriptions[subscriptionId]!.endsAt!;
  second.fake.advance(31 * DAY);
  const recovered = await second.running.payments.start();
  assert.ok(recovered && recovered.applied > 0, 'the renewal made after the restart is picked up');
  assert.ok(
    store.db.subscriptions[subscriptionId]!.endsAt! > endsBefore,
    'the subscription bought before the restart renewed',
  );
  await second.running.stop();
});
