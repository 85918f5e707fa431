import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { startTracing, tracer } from '../../shared/telemetry/tracing.js';
import { OtlpReceiver } from '../../appliance/testing/otlp-receiver.js';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { startPaymentsWorld } from './payments-harness.js';

test('the Stripe webhook that completes a checkout is a span linked to the guest’s checkout trace', async (t) => {
  const receiver = await OtlpReceiver.start();
  t.after(() => receiver.close());
  const tracing = await startTracing({ otlpEndpoint: receiver.endpoint, samplingRatio: 1, serviceName: 'turnpike' });
  t.after(() => tracing.shutdown());
  const world = await startPaymentsWorld(t);
  const buyer = await world.guest();

  // The guest's request, as the portal's HTTP span would carry it.
  const response = await tracer().startActiveSpan(
    'guest checkout',
    { kind: SpanKind.SERVER, root: true },
    async (span) => {
      try {
        return await world.appliance.app.inject({
          method: 'POST',
          url: '/api/v1/payments/checkout',
          headers: { authorization: `Bearer ${buyer.token}` },
          payload: { planId: world.plans.hour.id },
        });
      } finally {
        span.end();
      }
    },
  );
  assert.equal(response.statusCode, 201, response.body);
  const { url } = response.json() as { url: string };
  assert.ok(world.fake.payCheckout(url.split('/').pop()!, TEST_CARDS.success).ok);
  await world.fake.webhooksIdle();
  await tracing.flush();

  const spans = await receiver.waitFor((s) => s.some((x) => x.name === 'stripe checkout.session.completed'));
  const guestSpan = spans.find((s) => s.name === 'guest checkout');
  assert.ok(guestSpan, spans.map((s) => s.name).join(', '));
  const webhook = spans.find((s) => s.name === 'stripe checkout.session.completed')!;
  assert.notEqual(webhook.traceId, guestSpan.traceId, 'the webhook is its own trace (Stripe called us)');
  assert.deepEqual(webhook.links, [{ traceId: guestSpan.traceId, spanId: guestSpan.spanId }]);
  assert.equal(webhook.attributes['stripe.outcome'], 'applied');
});
