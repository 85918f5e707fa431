import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../shared/clock.js';
import { loadConfig } from '../config/load-config.js';
import { silentLogger } from '../../shared/logger.js';
import { createPlan } from '../plans/plans.js';
import type { EndReason } from '../sessions/enforcement-decision.js';
import {
  SessionEnforcer,
  type DynamicAuthorizationPort,
  type DynamicAuthorizationTarget,
} from '../sessions/enforcer.js';
import type { SessionLimits } from '../sessions/limits.js';
import { grantIn } from '../subscriptions/subscriptions.js';
import { tempStore } from '../testing/temp-store.js';
import { startEmbeddedStripeFake, type EmbeddedStripeFake } from '../../portal/stripe-fake/embedded-fake.js';
import { startPayments } from './start-payments.js';
import { userRecord } from '../testing/user-record.js';
import { nasClientRecord } from '../testing/nas-client-record.js';

test('the embedded default runs the Stripe fake, and a plan suspended after its grace period is disconnected', async (t) => {
  const store = await tempStore(t);
  const { config } = loadConfig({
    env: {},
    embedded: true,
    overrides: { dataDir: store.dir, payments: { graceDays: 3 } },
  });
  const ended: Array<[string, EndReason]> = [];
  const enforcer = {
    endSubscription: async (subscriptionId: string, reason: EndReason) => {
      ended.push([subscriptionId, reason]);
      return [];
    },
    refreshLimits: async () => [],
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
    db.users.u1 = userRecord({ id: 'u1', displayName: '' }, now);
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
  const enforcer = { endSubscription: async () => [], refreshLimits: async () => [] };
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

test('buying a plan again while its session is live sends the NAS the longer Session-Timeout by CoA', async (t) => {
  const store = await tempStore(t);
  const { config } = loadConfig({ env: {}, embedded: true, overrides: { dataDir: store.dir } });
  const sent: Array<{ acctSessionId: string | null; limits: SessionLimits }> = [];
  const port: DynamicAuthorizationPort = {
    disconnect: async () => ({ outcome: 'ack', attempts: 1 }),
    changeAuthorization: async (target: DynamicAuthorizationTarget, limits: SessionLimits) => {
      sent.push({ acctSessionId: target.session.acctSessionId, limits });
      return { outcome: 'ack', attempts: 1 };
    },
  };
  let embedded: EmbeddedStripeFake | null = null;
  const running = await startPayments({
    config,
    embedded: true,
    store,
    clock: systemClock,
    logger: silentLogger,
    enforcer: new SessionEnforcer({ store, clock: systemClock, port, logger: silentLogger }),
    startEmbeddedFake: async (c) => (embedded = await startEmbeddedStripeFake(c)),
  });
  assert.ok(running && embedded);
  t.after(() => running.stop());
  const fake = (embedded as EmbeddedStripeFake).fake;
  const plan = await createPlan(store, systemClock, { name: 'One hour', priceMinor: 200, durationSeconds: 3600 });
  const now = systemClock.now();
  await store.update((db) => {
    db.users.u1 = userRecord({ id: 'u1', displayName: '' }, now);
    db.nasClients.nas = nasClientRecord({ id: 'nas', createdAt: now });
  });
  const buy = async (): Promise<void> => {
    const started = await running.payments.startCheckout({
      userId: 'u1',
      planId: plan.id,
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/cancel',
    });
    assert.equal(fake.payCheckout(started.sessionId, '4242 4242 4242 4242').ok, true);
    await running.payments.confirmCheckout(started.sessionId, 'u1');
  };
  const settle = async (until: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !until(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  await buy();
  const subscription = Object.values(store.db.subscriptions).find((sub) => sub.userId === 'u1')!;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sent.length, 0, 'no session yet, nothing to tell the NAS');
  await store.update((db) => {
    db.sessions['nas:live-1'] = {
      id: 'nas:live-1',
      subscriptionId: subscription.id,
      ownerKey: 'user:u1',
      nasId: 'nas',
      acctSessionId: 'live-1',
      mode: 'controller',
      mac: '02:00:00:00:00:01',
      ip: null,
      startedAt: systemClock.now(),
      lastUpdateAt: systemClock.now(),
      interimIntervalSeconds: 300,
      inputOctets: 0,
      outputOctets: 0,
      chargedOctets: 0,
      disconnectPendingSince: null,
    };
  });

  await buy();
  await settle(() => sent.length > 0);
  assert.equal(Object.values(store.db.subscriptions).filter((sub) => sub.userId === 'u1').length, 1);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]?.acctSessionId, 'live-1');
  const timeout = sent[0]?.limits.sessionTimeout ?? 0;
  assert.ok(timeout > 2 * 3600 - 30 && timeout <= 2 * 3600, `Session-Timeout ${timeout}`);
  assert.ok(store.db.sessions['nas:live-1'], 'the session stays live');
});
