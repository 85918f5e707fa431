import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { PasswordHasher } from './password-hasher.js';

test('hashes are bcrypt $2b$ with the requested cost and verify only the right password', async () => {
  const hasher = new PasswordHasher({ concurrency: 2 });
  try {
    const hash = await hasher.hash('a long enough passphrase', 10);
    assert.match(hash, /^\$2b\$10\$[./A-Za-z0-9]{53}$/);
    assert.equal(await hasher.verify('a long enough passphrase', hash), true);
    assert.equal(await hasher.verify('a long enough passphrasE', hash), false);
    assert.equal(await hasher.verifyNothing('anything at all', 10), false);
  } finally {
    await hasher.close();
  }
});

test('hashing runs off the event loop: it stays idle while eight checks run', async () => {
  const hasher = new PasswordHasher({ concurrency: 2 });
  try {
    const hash = await hasher.hash('a long enough passphrase', 10);
    const before = performance.eventLoopUtilization();
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 8 }, () => hasher.verify('a long enough passphrase', hash)));
    const elapsed = performance.now() - started;
    const { utilization } = performance.eventLoopUtilization(before);
    assert.ok(results.every(Boolean));
    assert.ok(elapsed > 150, `eight cost-10 checks take real work (${elapsed.toFixed(0)} ms)`);
    // On the loop, ~80 ms of bcrypt per check would keep it busy nearly all the time.
    assert.ok(utilization < 0.25, `the event loop was busy ${(utilization * 100).toFixed(1)}% of the time`);
  } finally {
    await hasher.close();
  }
});

test('a queue past its bound sheds load with TP_ERR_UNAVAILABLE instead of growing', async () => {
  const hasher = new PasswordHasher({ concurrency: 1, maxQueued: 2 });
  try {
    const hash = await hasher.hash('a long enough passphrase', 10);
    const jobs = Array.from({ length: 5 }, () =>
      hasher.verify('x', hash).then(
        () => 'done',
        (err: { code?: string }) => err.code ?? 'error',
      ),
    );
    const outcomes = await Promise.all(jobs);
    assert.deepEqual(outcomes.filter((o) => o === 'done').length, 3, 'one running and two queued complete');
    assert.deepEqual(outcomes.filter((o) => o === 'TP_ERR_UNAVAILABLE').length, 2);
  } finally {
    await hasher.close();
  }
});
