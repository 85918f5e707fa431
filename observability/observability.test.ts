import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningAppliance } from '../appliance/main.js';
import { createVoucherBatch } from '../appliance/vouchers/batches.js';
import { requireSystem } from '../appliance/testing/system-tools.js';
import { AcctStatus } from '../radius/protocol/constants.js';
import { accessRequest, accountingRequest, TestClient } from '../radius/test-packets.js';
import { startEmbeddedAppliance } from '../appliance/testing/embedded-appliance.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const RULES = join(here, 'prometheus', 'turnpike-rules.yml');
const DASHBOARD = join(here, 'grafana', 'turnpike-overview.json');
const PROMETHEUS_PORT = 42210;

interface Dashboard {
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
}

test('the shipped rules load, and every alert fires on its recorded series and stays quiet on healthy ones (promtool)', async (t) => {
  if (!requireSystem(t, { tools: ['promtool'] })) return;
  const rules = await run('promtool', ['check', 'rules', RULES]);
  assert.match(rules.stdout, /SUCCESS: \d+ rules found/);
  const tests = await run('promtool', ['test', 'rules', join(here, 'prometheus', 'turnpike-rules.test.yml')]);
  assert.match(tests.stdout, /SUCCESS/);
  const config = await run('promtool', ['check', 'config', join(here, 'prometheus', 'scrape-example.yml')]);
  assert.match(config.stdout, /is valid prometheus config file/);

  const alerts = [...(await readFile(RULES, 'utf8')).matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
  const tested = await readFile(join(here, 'prometheus', 'turnpike-rules.test.yml'), 'utf8');
  for (const alert of alerts) assert.match(tested, new RegExp(`alertname: ${alert}\\b`), `${alert} has a test`);
});

/** Guest traffic of every kind a panel shows: a voucher login and its accounting, a reject, a forged packet, pages. */
async function guestTraffic(appliance: RunningAppliance): Promise<void> {
  const secret = Buffer.from(appliance.localNasSecret!);
  const plan = Object.values(appliance.store.db.plans)[0]!;
  const { codes } = await createVoucherBatch(
    appliance.store,
    { now: () => Date.now() },
    {
      planId: plan.id,
      count: 1,
      createdBy: 'staff',
    },
  );
  const code = codes[0]!;
  const client = await TestClient.open();
  try {
    const { authPort, acctPort } = appliance.radius!;
    const login = (password: string, id: number): Promise<Buffer | null> =>
      client.exchange(
        accessRequest({ identifier: id, secret, userName: code, password, callingStationId: '02-00-00-00-00-42' }),
        authPort,
        5000,
      );
    assert.equal((await login(code, 1))?.[0], 2, 'the voucher logs in over RADIUS');
    assert.equal((await login('not the code', 2))?.[0], 3, 'a wrong password is rejected');
    const subscription = Object.values(appliance.store.db.subscriptions).find((s) => s.voucherCode === code)!;
    const start = accountingRequest({
      identifier: 3,
      secret,
      status: AcctStatus.Start,
      sessionId: 'dash-1',
      subscriptionId: subscription.id,
    });
    assert.equal((await client.exchange(start, acctPort, 5000))?.[0], 5, 'accounting is acknowledged');
    client.send(
      accountingRequest({ identifier: 4, secret: Buffer.from('forged'), status: 1, sessionId: 'x' }),
      acctPort,
    );
    for (const path of ['/portal', '/healthz', '/portal/voucher']) await fetch(`${appliance.portalUrl}${path}`);
  } finally {
    await client.close();
  }
}

async function query(expr: string): Promise<unknown[]> {
  const url = `http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const body = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: unknown[] } };
  assert.equal(body.status, 'success', `${expr}: ${body.error ?? ''}`);
  return body.data!.result;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('a real Prometheus scrapes the running appliance with a bearer token, and every dashboard panel’s query returns data', async (t) => {
  if (!requireSystem(t, { tools: ['prometheus'] })) return;
  const token = 'scrape-token-for-the-test';
  const { appliance, dir } = await startEmbeddedAppliance(t, {
    overrides: { telemetry: { metricsBearerToken: token } },
  });

  await writeFile(join(dir, 'token'), token, { mode: 0o600 });
  await writeFile(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [RULES],
      scrape_configs: [
        {
          job_name: 'turnpike',
          authorization: { type: 'Bearer', credentials_file: join(dir, 'token') },
          static_configs: [{ targets: [new URL(appliance.metricsUrl).host] }],
        },
      ],
    }),
  );
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prometheus.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        if (prometheus.exitCode !== null) return resolve();
        prometheus.once('exit', () => resolve());
        prometheus.kill('SIGTERM');
      }),
  );

  await until('Prometheus to scrape the appliance', async () => {
    const up = (await query('up{job="turnpike"} == 1')) as unknown[];
    return up.length === 1;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${stderr}`);
  });
  await guestTraffic(appliance);
  await until('the traffic to be scraped', async () => (await query('turnpike_radius_dropped_total')).length > 0);
  await until(
    'the provisioner’s first reconcile report',
    async () => (await query('turnpike_provisioner_up')).length > 0,
  );
  await new Promise((resolve) => setTimeout(resolve, 2500));

  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  assert.ok(panels.length >= 15);
  const empty: string[] = [];
  for (const panel of panels) {
    for (const target of panel.targets ?? []) {
      const expr = target.expr.replaceAll('$__rate_interval', '30s');
      if ((await query(expr)).length === 0) empty.push(`${panel.title}: ${target.expr}`);
    }
  }
  assert.deepEqual(empty, [], 'panels without data');
  const rules = (await (await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/rules`)).json()) as {
    data: { groups: Array<{ rules: Array<{ health: string; name: string }> }> };
  };
  const unhealthy = rules.data.groups
    .flatMap((g) => g.rules)
    .filter((r) => r.health !== 'ok' && r.health !== 'unknown');
  assert.deepEqual(unhealthy, [], 'every shipped rule evaluates against the live appliance');
});
