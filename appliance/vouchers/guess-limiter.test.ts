import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { tempStore } from '../testing/temp-store.js';
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

test('guessing backs off per address and per MAC, doubling, and a success clears it', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const limiter = new GuessLimiter({
    store,
    clock,
    limits: { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 60_000 },
  });
  const keys = ['ip:10.0.0.9', 'mac:aa:bb:cc:00:00:01'];
  for (let i = 0; i < 3; i += 1) {
    limiter.assertAllowed(keys);
    await limiter.recordFailure(keys);
  }
  assert.ok(refused(limiter, keys));
  assert.ok(refused(limiter, ['ip:10.0.0.10', 'mac:aa:bb:cc:00:00:01']), 'a new address keeps the MAC waiting');
  clock.advance(1000);
  limiter.assertAllowed(keys);
  await limiter.recordFailure(keys);
  clock.advance(1000);
  assert.ok(refused(limiter, keys), 'the second wait is longer than the first');
  clock.advance(1000);
  limiter.assertAllowed(keys);
  await limiter.recordSuccess(keys);
  await limiter.recordFailure(keys);
  limiter.assertAllowed(keys);
});

test('two appliances sharing a store share the back-off: a guesser gains nothing by landing on the other box', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const limits = { freeFailures: 2, baseDelayMs: 60_000 };
  const boxA = new GuessLimiter({ store, clock, limits });
  const boxB = new GuessLimiter({ store, clock, limits });
  await boxA.recordFailure(['ip:198.51.100.7']);
  await boxB.recordFailure(['ip:198.51.100.7']);
  assert.ok(refused(boxA, ['ip:198.51.100.7']));
  assert.ok(refused(boxB, ['ip:198.51.100.7']));
});

test('a flood of never-repeating MACs stays within the cap and does not free the address still guessing', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const limiter = new GuessLimiter({ store, clock, limits: { freeFailures: 3, maxCounters: 1_000 } });
  for (let i = 0; i < 5_000; i += 1) {
    // One address guessing under ever-new MACs: the address keeps failing, the MACs never repeat.
    await limiter.recordFailure(['ip:198.51.100.7', `mac:${i.toString(16).padStart(12, '0')}`]);
    clock.advance(10);
  }
  const kept = Object.keys(store.db.attempts ?? {}).length;
  assert.ok(kept <= 1_000, `kept ${kept} counters`);
  assert.ok(refused(limiter, ['ip:198.51.100.7', 'mac:fresh']), 'the guessing address still waits');
  assert.ok(!refused(limiter, ['ip:203.0.113.1', 'mac:000000000001']), 'an early MAC was evicted, not kept');
});
