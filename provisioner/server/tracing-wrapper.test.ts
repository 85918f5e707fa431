import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger } from '../../shared/logger.js';
import {
  initPki,
  loadClientTls,
  loadJwtPublicKey,
  loadJwtSigningKey,
  loadServerTls,
} from '../../appliance/pki/pki-store.js';
import { ProvisionerClient } from '../../appliance/provisioning/provisioner-client.js';
import { installTraceContext, withRequestId } from '../../shared/telemetry/trace-context.js';
import { tracer } from '../../shared/telemetry/tracing.js';
import { MemoryAccountDriver, MemoryFirewallDriver } from '../drivers/memory.js';
import { startProvisionerServer } from './start-server.js';

/** A provisioner on loopback with the memory drivers, a client to it, and the JSON lines both log. */
async function provisionerOnLoopback(t: TestContext, prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await initPki({ dir: join(dir, 'pki') });
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const server = await startProvisionerServer({
    listen: '127.0.0.1:0',
    tls: await loadServerTls(join(dir, 'pki')),
    jwtPublicKey: await loadJwtPublicKey(join(dir, 'pki', 'jwt-public.pem')),
    firewall: new MemoryFirewallDriver(),
    accounts: new MemoryAccountDriver(),
    firewallName: 'memory',
    accountsName: 'memory',
    logger,
  });
  t.after(() => server.stop());
  const client = new ProvisionerClient({
    address: server.address,
    tls: await loadClientTls(join(dir, 'pki')),
    jwtKey: await loadJwtSigningKey(join(dir, 'pki')),
    logger,
  });
  t.after(() => client.close());
  return { client, lines };
}

test('a call carries the caller’s trace and request id: the provisioner’s span is the client span’s child, its log lines say request_id', async (t) => {
  installTraceContext();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  t.after(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
  });

  const { client, lines } = await provisionerOnLoopback(t, 'tp-trace-grpc-');

  const guestRequest = tracer().startSpan('POST /portal/voucher', { kind: SpanKind.SERVER });
  const requestContext = withRequestId(trace.setSpan(ROOT_CONTEXT, guestRequest), 'req-7f3a');
  await context.with(requestContext, () =>
    client.allowClient({
      ip: '10.0.0.9',
      mac: '02:00:00:00:00:09',
      seconds: 60,
      upKbps: 0,
      downKbps: 0,
      sessionId: 's9',
    }),
  );
  guestRequest.end();
  await provider.forceFlush();

  const spans = exporter.getFinishedSpans();
  const call = spans.find((s) => s.name === 'provisioner AllowClient');
  const served = spans.find((s) => s.name === 'AllowClient');
  assert.ok(call && served, spans.map((s) => s.name).join(', '));
  assert.equal(call.kind, SpanKind.CLIENT);
  assert.equal(call.parentSpanContext?.spanId, guestRequest.spanContext().spanId);
  assert.equal(served.kind, SpanKind.SERVER);
  assert.equal(served.parentSpanContext?.spanId, call.spanContext().spanId, 'continued from traceparent');
  assert.equal(served.spanContext().traceId, guestRequest.spanContext().traceId);
  assert.ok(
    !Object.keys(call.attributes).some((key) => /authorization|token/i.test(key)),
    'the call token stays out of the span',
  );

  const rpc = lines.find((line) => line.msg === 'rpc' && line.method === 'AllowClient');
  assert.ok(rpc, 'the provisioner logs the call');
  assert.equal(rpc.request_id, 'req-7f3a', 'the appliance’s request id reaches the provisioner’s log');
  assert.equal(rpc.trace_id, guestRequest.spanContext().traceId);
  assert.equal(rpc.span_id, served.spanContext().spanId);
});

test('with tracing off the provisioner makes no span, and its log line still says the appliance’s request_id', async (t) => {
  installTraceContext();
  const { client, lines } = await provisionerOnLoopback(t, 'tp-trace-off-');

  await context.with(withRequestId(ROOT_CONTEXT, 'req-0ff'), () =>
    client.revokeClient({ ip: '10.0.0.8', mac: '', sessionId: '' }),
  );
  const rpc = lines.find((line) => line.msg === 'rpc' && line.method === 'RevokeClient');
  assert.ok(rpc, 'the provisioner logs the call');
  assert.equal(rpc.request_id, 'req-0ff');
  assert.equal(rpc.trace_id, undefined, 'no trace to join');
  await assert.rejects(
    context.with(withRequestId(ROOT_CONTEXT, 'req-bad'), () =>
      client.allowClient({
        ip: 'not-an-ip',
        mac: '02:00:00:00:00:08',
        seconds: 60,
        upKbps: 0,
        downKbps: 0,
        sessionId: 's8',
      }),
    ),
  );
  const refused = lines.find((line) => line.msg === 'rpc refused' && line.method === 'AllowClient');
  assert.equal(refused?.request_id, 'req-bad', 'a refusal is logged under the request id too');
  assert.equal(refused?.code, 'INVALID_ARGUMENT');
});
