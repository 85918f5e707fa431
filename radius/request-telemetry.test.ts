import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { silentLogger } from '../shared/logger.js';
import { startTracing } from '../shared/telemetry/tracing.js';
import { OtlpReceiver } from '../appliance/testing/otlp-receiver.js';
import { Code } from './protocol/constants.js';
import { createRadiusMetrics } from './radius-metrics.js';
import { startRadiusServer } from './server.js';
import { createFixture, PASSWORD, SECRET } from './test-fixtures.js';
import { accessRequest, accountingRequest, TestClient } from './test-packets.js';

test('RADIUS requests are spans with the decision and reason, and counted by type, code, NAS, outcome and reason — never the password or user', async (t) => {
  const receiver = await OtlpReceiver.start();
  t.after(() => receiver.close());
  const tracing = await startTracing({ otlpEndpoint: receiver.endpoint, samplingRatio: 1, serviceName: 'turnpike' });
  t.after(() => tracing.shutdown());
  const fixture = await createFixture({ radius: { rejectDelayMs: 0 } });
  t.after(() => fixture.close());
  const registry = new Registry();
  const server = await startRadiusServer({
    config: fixture.config,
    store: fixture.store,
    clock: fixture.clock,
    logger: silentLogger,
    policy: fixture.policy,
    metrics: createRadiusMetrics(registry),
  });
  t.after(() => server.close());
  const client = await TestClient.open();
  t.after(() => client.close());
  const secret = Buffer.from(SECRET);

  const login = (password: string, id: number) =>
    client.exchange(
      accessRequest({
        identifier: id,
        secret,
        userName: 'guest@example.org',
        password,
        callingStationId: '02-00-00-00-00-01',
      }),
      server.authPort,
      5000,
    );
  assert.equal((await login(PASSWORD, 1))?.[0], Code.AccessAccept);
  assert.equal((await login('not-the-password', 2))?.[0], Code.AccessReject);
  const start = accountingRequest({
    identifier: 3,
    secret,
    status: 1,
    sessionId: 'acct-telemetry-1',
    subscriptionId: 'sub-user',
  });
  assert.equal((await client.exchange(start, server.acctPort, 5000))?.[0], Code.AccountingResponse);
  await tracing.flush();

  const spans = await receiver.waitFor((s) => s.length >= 3);
  const access = spans.filter((s) => s.name === 'radius Access-Request');
  assert.deepEqual(access.map((s) => [s.attributes['radius.decision'], s.attributes['radius.reason'] ?? null]).sort(), [
    ['accept', null],
    ['reject', 'TP_ERR_INVALID_CREDENTIALS'],
  ]);
  assert.ok(access.every((s) => s.attributes['radius.nas'] === 'test-nas' && s.parentSpanId === ''));
  const accounting = spans.find((s) => s.name === 'radius Accounting-Request');
  assert.equal(accounting?.attributes['radius.decision'], 'acknowledged');
  for (const span of spans) {
    const text = JSON.stringify(span.attributes);
    for (const secretish of [PASSWORD, 'not-the-password', SECRET, 'guest@example.org', '02-00-00-00-00-01']) {
      assert.ok(!text.includes(secretish), `${span.name} carries ${secretish}`);
    }
  }

  const exposition = await registry.metrics();
  assert.match(
    exposition,
    /turnpike_radius_requests_total\{type="access",code="Access-Reject",nas="test-nas",outcome="reject"\} 1/,
  );
  assert.match(
    exposition,
    /turnpike_radius_requests_total\{type="access",code="Access-Accept",nas="test-nas",outcome="accept"\} 1/,
  );
  assert.match(exposition, /turnpike_radius_rejects_total\{reason="TP_ERR_INVALID_CREDENTIALS"\} 1/);
  assert.match(exposition, /turnpike_radius_accounting_commit_duration_seconds_count 1/);

  client.send(
    accountingRequest({ identifier: 9, secret: Buffer.from('wrong'), status: 1, sessionId: 'x' }),
    server.acctPort,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.match(await registry.metrics(), /turnpike_radius_dropped_total\{cause="bad-authenticator"\} 1/);
});
