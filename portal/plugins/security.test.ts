import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { loadConfig } from '../../appliance/config/load-config.js';
import { security } from './security.js';

async function headersOf(secureCookies: boolean, url: string) {
  const { config } = loadConfig({ env: {}, overrides: { logLevel: 'silent', portal: { secureCookies } } });
  const app = Fastify({ logger: false });
  await app.register(security, { config, cookieSecret: 'test-cookie-secret-0123456789abcdef' });
  app.get('/page', async () => 'ok');
  const replies = [await app.inject({ url }), await app.inject({ url })];
  await app.close();
  return replies.map((r) => r.headers);
}

test('every response, an unknown path too, carries the same security headers, the portal policy among them', async () => {
  for (const url of ['/page', '/missing']) {
    const [first, second] = await headersOf(false, url);
    assert.equal(first!['x-frame-options'], 'SAMEORIGIN', url);
    assert.equal(first!['x-content-type-options'], 'nosniff');
    assert.equal(first!['referrer-policy'], 'no-referrer');
    const csp = String(first!['content-security-policy']);
    for (const directive of ["default-src 'self'", "frame-ancestors 'none'", "form-action 'self' http: https:"])
      assert.ok(csp.includes(directive), directive);
    assert.equal(second!['content-security-policy'], csp);
    assert.equal(first!['strict-transport-security'], undefined, 'no HSTS while cookies are not marked secure');
  }
});

test('a portal behind HTTPS (secure cookies) also sends HSTS', async () => {
  const [headers] = await headersOf(true, '/page');
  assert.match(String(headers!['strict-transport-security']), /^max-age=\d+/);
});
