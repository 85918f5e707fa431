import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/load-config.js';
import { silentLogger } from '../logger.js';
import { createPlan } from '../plans/plans.js';
import type { EndReason } from '../sessions/enforcement-decision.js';
import { grantIn } from '../subscriptions/subscriptions.js';
import { tempStore } from '../testing/temp-store.js';
import { startEmbeddedStripeFake } from '../../portal/stripe-fake/embedded-fake.js';
import { startPayments } from './start-payments.js';

test('the embedded default runs the Stripe fake, and a plan suspended after its grace period is disconnected', async (t) => {
  const store = await tempStore(t);
  const { config } = loadConfig({
    env: {},
    embedded: true,
    overrides: { dataDir: '/nonexistent', payments: { graceDays: 3 } },
  });
  const ended: Array<[string, EndReason]> = [];
  const enforcer = {
    endSubscription: async (subscriptionId: string, reason: EndReason) => {
      ended.push([subscriptionId, reason]);
      return [];
    },
  };
  const running = await startPayments({
    config,
    embedded: true,
    store,
    clock: systemClock,
    logger: silentLogger,
    enforcer,
    startEmbeddedFake: startEmbeddedStripeFake,
  });
  assert.ok(running, 'payments run in the embedded default');
  t.after(() => running.stop());
  assert.match(running.fakeUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);

  const plan = await createPlan(store, systemClock, {
    name: 'Monthly',
    priceMinor: 1900,
    durationSeconds: 30 * 86_400,
    recurring: true,
  });
  assert.deepEqual(await running.payments.syncCatalog(), { synced: 1, deactivated: 0 });
  assert.match(store.db.payments.stripeSync[plan.id]?.priceId ?? '', /^price_/);

  await running.portalListening('http://127.0.0.1:9');
  const now = systemClock.now();
  const subscriptionId = await store.update((db) => {
    db.users.u1 = {
      id: 'u1',
      email: 'u1@example.test',
      displayName: '',
      role: 'guest',
      passwordHash: '',
      emailVerified: true,
      disabled: false,
      mustChangePassword: false,
      mfa: null,
      createdAt: now,
      updatedAt: now,
    };
    const sub = grantIn(db, now, { userId: 'u1', voucherCode: null, plan, source: 'payment', sourceRef: null });
    sub.status = 'past_due';
    db.payments.recurring.sub_x = {
      stripeSubscriptionId: 'sub_x',
      subscriptionId: sub.id,
      userId: 'u1',
      planId: plan.id,
      pastDueSince: now - 4 * 86_400_000,
    };
    return sub.id;
  });
  assert.deepEqual(await running.payments.sweepGracePeriods(now), [subscriptionId]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(ended, [[subscriptionId, 'subscription-suspended']]);
});

test('no payment provider configured means no payments at all', async (t) => {
  const store = await tempStore(t);
  const { config } = loadConfig({ env: {}, overrides: { dataDir: '/nonexistent' } });
  const enforcer = { endSubscription: async () => [] };
  assert.equal(
    await startPayments({
      config,
      embedded: false,
      store,
      clock: systemClock,
      logger: silentLogger,
      enforcer,
      startEmbeddedFake: startEmbeddedStripeFake,
    }),
    null,
  );
});
