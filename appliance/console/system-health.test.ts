import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { createSystemHealth } from './system-health.js';

test('system health reads CPU, memory, the data directory’s disk, interfaces and uptime, at most every ten seconds', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tp-health-'));
  try {
    const clock = new ManualClock(Date.now());
    const health = createSystemHealth({ dataDir, clock, logger: silentLogger });
    const first = (await health.current())!;
    assert.ok(first.memory && first.memory.totalBytes > 0, 'memory');
    assert.ok(first.dataDisk && first.dataDisk.sizeBytes > 0, 'the disk holding the data directory');
    assert.ok(dataDir.startsWith(first.dataDisk.mount), `${first.dataDisk.mount} holds ${dataDir}`);
    assert.ok(
      first.interfaces.some((nic) => nic.name === 'lo'),
      'the loopback interface is listed',
    );
    assert.ok(first.uptimeSeconds > 0);
    clock.advance(5_000);
    assert.equal(await health.current(), first, 'a fresh reading is reused');
    clock.advance(6_000);
    assert.equal(await health.current(), first, 'a stale one is shown while the next is taken');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
