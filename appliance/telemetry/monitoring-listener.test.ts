import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { startMonitoringListener } from './monitoring-listener.js';

function registryWithOneCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'turnpike_test_total', help: 'a counter', registers: [registry] }).inc();
  return registry;
}

test('metrics, health and readiness are served on the monitoring listener, on loopback', async (t) => {
  let ready = false;
  const listener = await startMonitoringListener({
    host: '127.0.0.1',
    port: 0,
    bearerToken: '',
    registry: registryWithOneCounter(),
    readiness: [{ name: 'provisioner', check: async () => ready }],
  });
  t.after(() => listener.close());
  assert.match(listener.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const metrics = await fetch(`${listener.url}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /^turnpike_test_total 1$/m);
  assert.equal((await fetch(`${listener.url}/healthz`)).status, 200);
  const notReady = await fetch(`${listener.url}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(await notReady.json(), { status: 'not ready', checks: { provisioner: false } });
  ready = true;
  assert.equal((await fetch(`${listener.url}/readyz`)).status, 200);
  assert.equal((await fetch(`${listener.url}/portal`)).status, 404);
});

test('with a bearer token, a scrape without it or with a wrong one is refused 401', async (t) => {
  const listener = await startMonitoringListener({
    host: '127.0.0.1',
    port: 0,
    bearerToken: 's3cret-scrape-token',
    registry: registryWithOneCounter(),
    readiness: [],
  });
  t.after(() => listener.close());
  const anonymous = await fetch(`${listener.url}/metrics`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
  const wrong = await fetch(`${listener.url}/metrics`, { headers: { authorization: 'Bearer s3cret-scrape-tokeN' } });
  assert.equal(wrong.status, 401);
  const right = await fetch(`${listener.url}/metrics`, { headers: { authorization: 'Bearer s3cret-scrape-token' } });
  assert.equal(right.status, 200);
  assert.match(await right.text(), /turnpike_test_total/);
  assert.equal((await fetch(`${listener.url}/healthz`)).status, 200, 'probes stay open for the local supervisor');
});
