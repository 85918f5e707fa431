import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/** True when `tool` is on PATH. */
export function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Skips the test loudly when a system tool (or root) is missing on a
 * developer machine. Under CI=true a missing tool is a failure, never a skip.
 */
export function requireSystem(t: TestContext, needs: { tools?: string[]; root?: boolean }): boolean {
  const missing = (needs.tools ?? []).filter((tool) => !hasTool(tool));
  if (needs.root && !isRoot()) missing.push('root privileges');
  if (missing.length === 0) return true;
  const message = `MISSING ${missing.join(', ')} — this test needs them (.ci/run installs them)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true forbids skipping`);
  console.warn(`\n*** SKIPPED: ${message} ***\n`);
  t.skip(message);
  return false;
}
