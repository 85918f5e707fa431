import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { LowdbStore } from '../store/lowdb-store.js';
import { LoginThrottle } from './login-throttle.js';

const policy = {
  freeAttempts: 3,
  perAddressFreeAttempts: 10,
  baseDelaySeconds: 60,
  maxDelaySeconds: 900,
  alertFailures: 50,
};

test('a flood of never-repeating accounts and addresses stays within the cap and frees no one held back', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-throttle-'));
  const store = await LowdbStore.open({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const clock = new ManualClock();
  const throttle = new LoginThrottle({ store, clock, policy, maxCounters: 300 });
  for (let i = 0; i < 3; i += 1) await throttle.recordFailure('admin@example.test', '198.51.100.66');
  assert.ok(throttle.retryAfterSeconds('admin@example.test', '198.51.100.66') > 0);

  // Each failure is one write; send them in waves so that they share disk writes.
  for (let wave = 0; wave < 20; wave += 1) {
    clock.advance(1_000);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        throttle.recordFailure(`made-up-${wave}-${i}@example.test`, `2001:db8::${wave.toString(16)}:${i.toString(16)}`),
      ),
    );
  }
  const counters = Object.keys(store.db.attempts ?? {}).length;
  assert.ok(counters <= 300, `the store holds ${counters} counters`);
  assert.ok(
    throttle.retryAfterSeconds('admin@example.test', '198.51.100.66') > 0,
    'the address held back is still held back after the flood',
  );
  assert.equal(throttle.retryAfterSeconds('admin@example.test', '203.0.113.10'), 0, 'the owner elsewhere is not');
});
