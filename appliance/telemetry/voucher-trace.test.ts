import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../../shared/clock.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../../shared/logger.js';
import { startAppliance } from '../main.js';
import { createPlan } from '../plans/plans.js';
import { OtlpReceiver, spanTree, type ReceivedSpan } from '../testing/otlp-receiver.js';
import { requireSystem } from '../testing/system-tools.js';
import { createVoucherBatch } from '../vouchers/batches.js';

const PORTAL_PORT = 42201;
const SERVER = 2;
const CLIENT = 3;

const run = promisify(execFile);

/**
 * A guest device in a network namespace of its own, wired to this host by a
 * veth pair: its requests come from a real neighbour, so the appliance learns
 * its MAC from the kernel's ARP table exactly as on a gateway.
 */
class GuestDevice {
  readonly ns: string;
  readonly hostIf: string;
  readonly hostIp: string;
  readonly guestIp: string;
  csrf = '';
  readonly #jar: string;

  constructor(dir: string) {
    const id = String(process.pid % 10000);
    const net = 1 + (process.pid % 250);
    this.ns = `h14-guest-${id}`;
    this.hostIf = `h14h${id}`;
    this.hostIp = `10.214.${net}.1`;
    this.guestIp = `10.214.${net}.2`;
    this.#jar = join(dir, 'cookies.txt');
  }

  async up(): Promise<void> {
    await this.down();
    const guestIf = `${this.hostIf.replace('h14h', 'h14g')}`;
    await run('ip', ['netns', 'add', this.ns]);
    await run('ip', ['link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', guestIf, 'netns', this.ns]);
    await run('ip', ['addr', 'add', `${this.hostIp}/24`, 'dev', this.hostIf]);
    await run('ip', ['link', 'set', this.hostIf, 'up']);
    await run('ip', ['netns', 'exec', this.ns, 'ip', 'addr', 'add', `${this.guestIp}/24`, 'dev', guestIf]);
    await run('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', guestIf, 'up']);
    await run('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', 'lo', 'up']);
  }

  async down(): Promise<void> {
    await run('ip', ['link', 'del', this.hostIf]).catch(() => undefined);
    await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
  }

  /** `curl` from the guest: status and body; keeps cookies and the page's CSRF token. */
  async request(url: string, form?: Record<string, string>): Promise<{ status: number; body: string }> {
    const args = ['netns', 'exec', this.ns, 'curl', '-s', '-c', this.#jar, '-b', this.#jar, '-w', '\n%{http_code}'];
    if (form) args.push('--data', new URLSearchParams({ _csrf: this.csrf, ...form }).toString());
    const { stdout } = await run('ip', [...args, url]);
    const at = stdout.lastIndexOf('\n');
    const body = stdout.slice(0, at);
    const token = /name="_csrf" value="([^"]+)"/.exec(body);
    if (token) this.csrf = token[1]!;
    return { status: Number(stdout.slice(at + 1)), body };
  }

  async cookieValues(): Promise<string[]> {
    const jar = await readFile(this.#jar, 'utf8');
    return jar
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('# '))
      .map((line) => line.split('\t')[6] ?? '');
  }
}

function ancestorsOf(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  let parent = spans.find((s) => s.spanId === span.parentSpanId);
  while (parent) {
    chain.push(parent);
    const id: string = parent.parentSpanId;
    parent = spans.find((s) => s.spanId === id);
  }
  return chain;
}

test('one voucher redemption in gateway mode is one trace: portal → domain → store → gRPC → provisioner, with no secret in any attribute', async (t) => {
  if (!requireSystem(t, { tools: ['ip', 'curl'], root: true })) return;
  const receiver = await OtlpReceiver.start();
  t.after(() => receiver.close());
  const dir = await mkdtemp(join(tmpdir(), 'tp-trace-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const device = new GuestDevice(dir);
  await device.up();
  t.after(() => device.down());
  const { config } = loadConfig({
    embedded: true,
    env: {},
    overrides: {
      dataDir: join(dir, 'var'),
      logLevel: 'silent',
      portal: { host: device.hostIp, port: PORTAL_PORT, publicUrl: `http://${device.hostIp}:${PORTAL_PORT}` },
      radius: { enabled: false },
      gateway: { enabled: true },
      telemetry: { otlpEndpoint: receiver.endpoint, samplingRatio: 1, metricsPort: 0 },
    },
  });
  const logLines: string[] = [];
  const appliance = await startAppliance({
    config,
    configSource: null,
    embedded: true,
    adminSocket: null,
    logger: createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } }),
  });
  let stopped = false;
  t.after(() => (stopped ? undefined : appliance.stop()));

  const plan = await createPlan(appliance.store, systemClock, { name: 'Traced hour', durationSeconds: 3600 });
  const { codes } = await createVoucherBatch(appliance.store, systemClock, {
    planId: plan.id,
    count: 1,
    createdBy: 'staff',
  });
  const code = codes[0]!;
  // The provisioner must be up before the guest arrives, as it is for a real guest.
  for (let i = 0; i < 100 && (await fetch(`${appliance.metricsUrl}/readyz`)).status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const page = `${appliance.portalUrl}/portal/voucher`;
  assert.equal((await device.request(page)).status, 200);
  const redeemed = await device.request(page, { code, terms: 'yes' });
  assert.equal(redeemed.status, 303, redeemed.body);

  const isRedemption = (s: ReceivedSpan): boolean => s.name === 'POST /portal/voucher';
  await receiver.waitFor((spans) => {
    const root = spans.find(isRedemption);
    return !!root && spans.some((s) => s.traceId === root.traceId && s.service === 'turnpike-provisioner');
  });
  await appliance.stop();
  stopped = true;

  const root = receiver.spans.find(isRedemption)!;
  const trace = receiver.spans.filter((s) => s.traceId === root.traceId);
  const tree = spanTree(trace);
  t.diagnostic(`trace ${root.traceId}`);
  for (const line of tree.split('\n')) t.diagnostic(line);

  assert.equal(root.parentSpanId, '', 'the portal span is the root: a guest cannot choose our trace');
  assert.equal(root.kind, SERVER);
  assert.equal(root.service, 'turnpike');
  assert.equal(root.attributes['http.route'], '/portal/voucher');
  assert.equal(root.attributes['http.response.status_code'], 303);

  const named = (name: string, service = 'turnpike'): ReceivedSpan => {
    const span = trace.find((s) => s.name === name && s.service === service);
    assert.ok(span, `${service} ${name} is in the trace:\n${tree}`);
    return span;
  };
  const redeem = named('voucher.redeem');
  assert.equal(redeem.parentSpanId, root.spanId);
  const redeemWrite = trace.find((s) => s.name === 'store.update' && s.parentSpanId === redeem.spanId);
  assert.ok(redeemWrite, `the redemption writes the store inside its span:\n${tree}`);
  const gateway = named('gateway.open');
  assert.ok(ancestorsOf(gateway, trace).includes(root));
  assert.ok(
    trace.some((s) => s.name === 'store.update' && s.parentSpanId === gateway.spanId),
    `the session is written inside gateway.open:\n${tree}`,
  );
  const call = named('provisioner AllowClient');
  assert.equal(call.kind, CLIENT);
  assert.equal(call.parentSpanId, gateway.spanId);
  const served = named('AllowClient', 'turnpike-provisioner');
  assert.equal(served.kind, SERVER);
  assert.equal(served.parentSpanId, call.spanId, 'the provisioner continues the trace from traceparent');

  const requestId = String(root.attributes['turnpike.request_id']);
  const correlated = logLines
    .map((line) => JSON.parse(line) as { trace_id?: string; request_id?: string; reqId?: string })
    .filter((line) => line.reqId === requestId);
  assert.ok(correlated.length > 0, 'the request is logged');
  for (const line of correlated) {
    assert.equal(line.trace_id, root.traceId, 'its log lines carry the trace id');
    assert.equal(line.request_id, requestId);
  }

  const cookies = await device.cookieValues();
  const secrets = [code, code.replace(/-/g, ''), device.csrf, ...cookies].filter((s) => s.length >= 6);
  for (const span of receiver.spans) {
    for (const [key, value] of Object.entries(span.attributes)) {
      assert.doesNotMatch(key, /password|secret|token|card|cookie|authorization|voucher/i, `${span.name}: ${key}`);
      const text = String(value);
      assert.doesNotMatch(text, /eyJ[\w-]+\.[\w-]+/, `${span.name}.${key} holds a JWT`);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${span.name}.${key} holds a secret`);
    }
  }
  assert.deepEqual([...receiver.contentTypes], ['application/json'], 'spans arrive as OTLP/HTTP JSON');
});
