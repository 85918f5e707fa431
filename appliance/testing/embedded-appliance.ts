import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Logger } from '../../shared/logger.js';
import { silentLogger } from '../../shared/logger.js';
import { deepMerge, loadConfig } from '../config/load-config.js';
import { startAppliance, type RunningAppliance } from '../main.js';

/** Loopback and port 0 everywhere, so that tests never meet another appliance on this machine. */
const TEST_OVERRIDES = {
  logLevel: 'silent',
  portal: { host: '127.0.0.1', port: 0 },
  radius: { authPort: 0, acctPort: 0, listen: ['127.0.0.1'], rejectDelayMs: 0 },
  telemetry: { metricsPort: 0 },
};

/**
 * The embedded default appliance in this process, with its data in a temp dir (`dir/var`); stopped
 * and removed when the test ends. `overrides` are config keys as in turnpike.json.
 */
export async function startEmbeddedAppliance(
  t: TestContext,
  options: { overrides?: Record<string, unknown>; logger?: Logger } = {},
): Promise<{ appliance: RunningAppliance; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-appliance-'));
  let appliance: RunningAppliance | null = null;
  t.after(async () => {
    await appliance?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const { config } = loadConfig({
    embedded: true,
    env: {},
    overrides: deepMerge({ ...TEST_OVERRIDES, dataDir: join(dir, 'var') }, options.overrides ?? {}),
  });
  appliance = await startAppliance({
    config,
    configSource: null,
    embedded: true,
    adminSocket: null,
    logger: options.logger ?? silentLogger,
  });
  return { appliance, dir };
}
