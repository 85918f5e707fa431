import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../appliance/config/load-config.js';
import { silentLogger } from '../../shared/logger.js';
import { createMetrics } from '../../appliance/metrics.js';
import { buildPortalFoundation } from '../app.js';

async function portal(rateLimitPerMinute: number) {
  const app = await buildPortalFoundation({
    config: validateConfig({ portal: { rateLimitPerMinute } }, 'test'),
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
    authenticator: { authenticate: async () => null },
    readiness: [{ name: 'store', check: async () => true }],
    cookieSecret: 'observability-test-cookie-secret-0123456789',
  });
  app.get('/portal', { config: { public: true } }, async () => 'welcome');
  return app;
}

test('a flood from one address is refused 429, while /healthz and /readyz keep answering it', async (t) => {
  const app = await portal(5);
  t.after(() => app.close());
  const from = { remoteAddress: '10.9.0.7' };
  const codes = [];
  for (let i = 0; i < 8; i++) codes.push((await app.inject({ url: '/portal', ...from })).statusCode);
  assert.equal(codes.at(-1), 429, `the guest page is limited: ${codes.join(',')}`);
  for (let i = 0; i < 20; i++) {
    assert.equal((await app.inject({ url: '/healthz', ...from })).statusCode, 200);
    assert.equal((await app.inject({ url: '/readyz', ...from })).statusCode, 200);
  }
});

test('the guest-facing portal does not serve /metrics', async (t) => {
  const app = await portal(300);
  t.after(() => app.close());
  assert.equal((await app.inject({ url: '/metrics' })).statusCode, 404);
});
