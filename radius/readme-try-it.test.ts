import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { requireSystem } from '../appliance/testing/system-tools.js';
import { radclient } from './radclient-driver.js';
import { createFixture, SECRET, startFixtureServer } from './test-fixtures.js';

/** The attributes the README's "Try it" step sends with radclient. */
function tryItAttributes(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const line = /echo '([^']+)' \\\n\s+\| radclient 127\.0\.0\.1 auth PRINTED_SECRET/.exec(readme);
  assert.ok(line, 'README.md has the radclient step');
  return line[1]!;
}

test('the README’s "Try it" RADIUS step works as written, and again for the same device', async (t) => {
  if (!requireSystem(t, { tools: ['radclient'] })) return;
  const fixture = await createFixture();
  const server = await startFixtureServer(fixture);
  try {
    const attributes = tryItAttributes().replaceAll('CODE', 'TPVOUCHER1').replaceAll(',', '\n');
    for (const attempt of ['first', 'second']) {
      const result = await radclient(`127.0.0.1:${server.authPort}`, 'auth', SECRET, `${attributes}\n`);
      assert.equal(result.reply, 'Access-Accept', `${attempt}: ${result.output}`);
    }
  } finally {
    await server.close();
    await fixture.close();
  }
});
