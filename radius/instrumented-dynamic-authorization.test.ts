import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Registry } from 'prom-client';
import { silentLogger } from '../shared/logger.js';
import { startTracing, tracer } from '../shared/telemetry/tracing.js';
import { OtlpReceiver } from '../appliance/testing/otlp-receiver.js';
import { createDynamicAuthorizationClient } from './dynamic-authorization-client.js';
import { instrumentDynamicAuthorization } from './instrumented-dynamic-authorization.js';
import { AcctStatus, Code } from './protocol/constants.js';
import { createRadiusMetrics } from './radius-metrics.js';
import { createFixture, SECRET, startFixtureServer } from './test-fixtures.js';
import { accountingRequest, TestClient } from './test-packets.js';

test('a Disconnect-Request to a NAS that does not answer is a span under the action that caused it, counted as a timeout', async (t) => {
  const receiver = await OtlpReceiver.start();
  t.after(() => receiver.close());
  const tracing = await startTracing({ otlpEndpoint: receiver.endpoint, samplingRatio: 1, serviceName: 'turnpike' });
  t.after(() => tracing.shutdown());
  const fixture = await createFixture();
  t.after(() => fixture.close());

  // A live session, opened the way a NAS opens one.
  const server = await startFixtureServer(fixture);
  const client = await TestClient.open();
  const start = accountingRequest({
    identifier: 1,
    secret: Buffer.from(SECRET),
    status: AcctStatus.Start,
    sessionId: 'coa-span-1',
    subscriptionId: 'sub-user',
  });
  assert.equal((await client.exchange(start, server.acctPort, 5000))?.[0], Code.AccountingResponse);
  await client.close();
  await server.close();
  const session = Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'coa-span-1')!;
  assert.ok(session);

  // The NAS is up but says nothing: its CoA port swallows every packet.
  const silentNas = createSocket('udp4');
  await new Promise<void>((resolve) => silentNas.bind(0, '127.0.0.1', resolve));
  t.after(() => silentNas.close());
  const nas = {
    ...fixture.store.db.nasClients[fixture.nasId]!,
    source: '127.0.0.1',
    coaPort: silentNas.address().port,
  };

  const registry = new Registry();
  const coa = instrumentDynamicAuthorization(
    createDynamicAuthorizationClient({ clock: fixture.clock, logger: silentLogger, timeoutMs: 100, retries: 1 }),
    createRadiusMetrics(registry),
  );
  t.after(() => coa.close());
  const result = await tracer().startActiveSpan(
    'POST /api/v1/sessions/:id/disconnect',
    { root: true },
    async (kick) => {
      try {
        return await coa.disconnect({ session, nas });
      } finally {
        kick.end();
      }
    },
  );
  assert.equal(result.outcome, 'timeout');
  assert.match(
    await registry.metrics(),
    /turnpike_radius_dynamic_authorization_total\{kind="disconnect",nas="test-nas",outcome="timeout"\} 1/,
  );

  await tracing.flush();
  const spans = await receiver.waitFor((s) => s.some((x) => x.name === 'radius Disconnect-Request'));
  const kick = spans.find((s) => s.name === 'POST /api/v1/sessions/:id/disconnect')!;
  const disconnect = spans.find((s) => s.name === 'radius Disconnect-Request')!;
  assert.equal(disconnect.parentSpanId, kick.spanId, 'the Disconnect-Request sits under the kick that caused it');
  assert.equal(disconnect.traceId, kick.traceId);
  assert.equal(disconnect.attributes['radius.outcome'], 'timeout');
  assert.equal(disconnect.attributes['radius.attempts'], 2);
  assert.ok(!JSON.stringify(disconnect.attributes).includes(SECRET), 'the shared secret is not in the span');
});
