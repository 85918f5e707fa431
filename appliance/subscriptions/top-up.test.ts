import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Db } from '../domain/model.js';
import { remainingOf } from '../entitlements/entitlement.js';
import { refundIn, settleOneOffIn } from '../payments/entitlement-effects.js';
import type { Payment } from '../payments/model.js';
import { rollUsagePeriodIn } from '../quotas/usage-period.js';
import { applyAccountingIn } from '../sessions/accounting.js';
import { DEFAULT_SESSION_CAPS } from '../sessions/session-caps.js';
import { sessionIndexesOf } from '../sessions/session-indexes.js';
import { planRecord } from '../testing/plan-record.js';
import { subscriptionRecord } from '../testing/subscription-record.js';
import { tempStore } from '../testing/temp-store.js';
import { topUpOfferFor } from './top-up.js';

const GIB = 2 ** 30;
const NOW = Date.UTC(2026, 2, 10, 12);

const monthly = planRecord({
  id: 'monthly',
  priceMinor: 900,
  durationSeconds: 30 * 86_400,
  quotaBytes: GIB,
  usagePeriod: { every: 'day', anchor: 'start' },
  onQuotaExhausted: { action: 'throttle', upKbps: 128, downKbps: 256 },
});
const extra = planRecord({ id: 'extra', priceMinor: 300, durationSeconds: null, quotaBytes: 2 * GIB });
const free = planRecord({ id: 'free', priceMinor: 0, quotaBytes: GIB, freeTier: { periodSeconds: 86_400 } });
const recurring = planRecord({ id: 'recurring', priceMinor: 500, quotaBytes: 5 * GIB, recurring: true });

function topUpPayment(subscriptionId: string): Payment {
  return {
    id: 'pay-1',
    userId: 'u1',
    planId: extra.id,
    kind: 'one-off',
    amountMinor: 300,
    currency: 'EUR',
    status: 'pending',
    stripe: { customerId: null, checkoutSessionId: null, paymentIntentId: null, invoiceId: null, subscriptionId: null },
    subscriptionId: null,
    grantedSeconds: 0,
    topUpOf: subscriptionId,
    invoiceNumber: null,
    failureMessage: null,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

test('a guest throttled on a spent quota is offered the one-off plans that add data, not free or recurring ones', async (t) => {
  const store = await tempStore(t, 'tp-h13n-topup-');
  await store.update((db) => {
    for (const plan of [monthly, extra, free, recurring]) db.plans[plan.id] = plan;
    db.subscriptions.s1 = subscriptionRecord({ id: 's1', planId: monthly.id, bytesUsed: GIB / 2 }, NOW);
  });
  assert.equal(topUpOfferFor(store, 'user:u1', NOW), null, 'data left: nothing to lift');
  await store.update((db) => {
    db.subscriptions.s1!.bytesUsed = GIB;
  });
  assert.deepEqual(
    topUpOfferFor(store, 'user:u1', NOW)?.plans.map((plan) => plan.id),
    ['extra', 'monthly'],
  );
});

test('a paid top-up adds its data to the running subscription for the current period; the next period starts from the plan again', async (t) => {
  const store = await tempStore(t, 'tp-h13n-topup-');
  const changed = await store.update((db: Db) => {
    db.plans[monthly.id] = monthly;
    db.plans[extra.id] = extra;
    db.subscriptions.s1 = subscriptionRecord({ id: 's1', planId: monthly.id, bytesUsed: GIB }, NOW);
    const payment = topUpPayment('s1');
    db.payments.payments[payment.id] = payment;
    return settleOneOffIn(db, NOW, payment, { paymentIntentId: 'pi_1', customerId: null });
  });
  assert.deepEqual(changed, ['s1'], 'the running subscription changed; none was added');
  assert.equal(Object.keys(store.db.subscriptions).length, 1);
  const subscription = store.db.subscriptions.s1!;
  assert.equal(remainingOf(monthly, subscription, NOW).bytesLeft, 2 * GIB);
  assert.equal(subscription.endsAt, NOW + 3_600_000, 'a top-up adds data, not time');
  assert.equal(store.db.payments.payments['pay-1']!.grantedBytes, 2 * GIB);

  const rolled = { ...subscription };
  assert.ok(rollUsagePeriodIn(monthly, rolled, NOW + 86_400_000, 'UTC'));
  assert.equal(remainingOf(monthly, rolled, NOW + 86_400_000).bytesLeft, GIB, 'a new day: the plan’s quota only');

  await store.update((db) => refundIn(db, NOW + 1000, db.payments.payments['pay-1']!));
  assert.equal(remainingOf(monthly, store.db.subscriptions.s1!, NOW).bytesLeft, 0, 'a refund takes the data back');
  assert.equal(store.db.subscriptions.s1!.status, 'active', 'and leaves the subscription running');
});

test('accounting throttles again only when the topped-up quota is spent too', async (t) => {
  const store = await tempStore(t, 'tp-h13n-topup-');
  await store.update((db) => {
    db.plans[monthly.id] = monthly;
    db.subscriptions.s1 = subscriptionRecord({ id: 's1', planId: monthly.id, bytesUsed: GIB, topUpBytes: GIB }, NOW);
  });
  const context = { indexes: sessionIndexesOf(store), caps: DEFAULT_SESSION_CAPS };
  const report = (status: 'start' | 'interim', octets: number) =>
    store.update((db) =>
      applyAccountingIn(
        db,
        {
          nasId: 'nas',
          status,
          acctSessionId: 'a1',
          subscriptionId: 's1',
          mac: null,
          ip: null,
          inputOctets: 0,
          outputOctets: octets,
          sessionTime: null,
          terminateCause: null,
          interimIntervalSeconds: 300,
        },
        NOW,
        context,
      ),
    );
  await report('start', 0);
  assert.deepEqual((await report('interim', GIB / 2)).actions, [], 'half of the top-up used: full speed');
  const spent = await report('interim', GIB);
  assert.deepEqual(spent.actions, [{ action: 'throttle', sessionId: 'nas/a1', rate: { upKbps: 128, downKbps: 256 } }]);
});
