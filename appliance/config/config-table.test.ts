import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configKeys, withConfigTable } from './config-table.js';
import { loadConfig } from './load-config.js';

const README = new URL('../../README.md', import.meta.url);

test('the README lists every configuration key with its environment variable, as the schema has it now', () => {
  const readme = readFileSync(README, 'utf8');
  assert.equal(
    withConfigTable(readme),
    readme,
    'README.md is out of date: run npx tsx appliance/config/write-config-table.ts',
  );
  assert.match(readme, /\| `portal\.publicUrl` \| `TURNPIKE_PORTAL_PUBLIC_URL` \|/);
  assert.match(readme, /\| `radius\.authPort` \| `TURNPIKE_RADIUS_AUTH_PORT` \|/);
});

test('each environment variable in the table overrides its key', () => {
  const samples: Record<string, string> = { string: 'x', integer: '1234', number: '3', boolean: 'true' };
  for (const key of configKeys()) {
    const raw = samples[key.type];
    if (raw === undefined || /secret|url|dir|socket|host|from|endpoint|token|issuer|name/i.test(key.path)) continue;
    let config: unknown;
    try {
      config = loadConfig({ env: { [key.env]: raw } }).config;
    } catch (err) {
      // A sample outside the key's range is refused for that reason, never as an unknown variable.
      assert.doesNotMatch(String(err), /unknown|not a Turnpike setting|nearest/i, key.env);
      continue;
    }
    const value = key.path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
    assert.equal(String(value), raw, key.env);
  }
  const { config } = loadConfig({
    env: { TURNPIKE_PORTAL_PUBLIC_URL: 'https://wifi.example.net', TURNPIKE_RADIUS_AUTH_PORT: '1912' },
  });
  assert.equal(config.portal.publicUrl, 'https://wifi.example.net');
  assert.equal(config.radius.authPort, 1912);
});
