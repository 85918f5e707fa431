import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/needs-missing-tool.ts', import.meta.url));

function runFixture(ci: boolean): { status: number | null; output: string } {
  const env = { ...process.env };
  delete env.CI;
  // Run as a top-level test run, not as a child reporting to this one.
  delete env.NODE_TEST_CONTEXT;
  if (ci) env.CI = 'true';
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', fixture], { env, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

test('under CI=true a missing system tool fails the test instead of skipping it', () => {
  const { status, output } = runFixture(true);
  assert.notEqual(status, 0);
  assert.match(output, /# fail 1/);
  assert.match(output, /# skipped 0/);
  assert.match(output, /CI=true forbids skipping/);
});

test('on a developer machine a missing system tool skips the test with a loud message', () => {
  const { status, output } = runFixture(false);
  assert.equal(status, 0);
  assert.match(output, /# skipped 1/);
  assert.match(output, /SKIPPED: MISSING turnpike-no-such-tool/);
});
