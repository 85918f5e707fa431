import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { GuessLimiter } from './guess-limiter.js';

const refused = (limiter: GuessLimiter, keys: string[]) => {
  try {
    limiter.assertAllowed(keys);
    return false;
  } catch (err) {
    assert.ok(isTurnpikeError(err, 'TP_ERR_RATE_LIMITED'));
    return true;
  }
};

test('a flood of never-repeating MACs stays within the cap and does not free the address still guessing', () => {
  const clock = new ManualClock();
  const limiter = new GuessLimiter(clock, { freeFailures: 3, maxKeys: 1_000 });
  for (let i = 0; i < 50_000; i += 1) {
    // One address guessing under ever-new MACs: the address keeps failing, the MACs never repeat.
    limiter.recordFailure(['ip:198.51.100.7', `mac:${i.toString(16).padStart(12, '0')}`]);
    clock.advance(10);
  }
  assert.ok(limiter.size <= 1_000, `tracked ${limiter.size} keys`);
  assert.ok(refused(limiter, ['ip:198.51.100.7', 'mac:fresh']), 'the guessing address still waits');
  assert.ok(!refused(limiter, ['ip:203.0.113.1', 'mac:000000000001']), 'an early MAC was evicted, not kept');
});

test('keys idle past forgetAfterMs are dropped even below the cap', () => {
  const clock = new ManualClock();
  const limiter = new GuessLimiter(clock, { forgetAfterMs: 60_000 });
  for (let i = 0; i < 500; i += 1) limiter.recordFailure([`ip:10.0.${i >> 8}.${i & 255}`]);
  clock.advance(60_001);
  limiter.recordFailure(['ip:192.0.2.1']);
  assert.equal(limiter.size, 1);
});
