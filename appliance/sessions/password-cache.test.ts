import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { PasswordCache } from './password-cache.js';

test('a flood of never-repeating passwords stays within the cap and keeps the verdict in use', async () => {
  const clock = new ManualClock();
  let checks = 0;
  const cache = new PasswordCache({
    clock,
    ttlSeconds: 300,
    maxEntries: 1_000,
    verify: async (password) => {
      checks += 1;
      return password === 'the right one';
    },
  });
  assert.equal(await cache.check('u1', 'hash', 'the right one'), true);
  for (let wave = 0; wave < 50; wave += 1) {
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => cache.check('u1', 'hash', `guess ${wave}-${i}`)));
    // The guest who signed in still signs in during the flood, at one more check once it pushed the verdict out.
    assert.equal(await cache.check('u1', 'hash', 'the right one'), true);
  }
  assert.ok(cache.size <= 1_000, `${cache.size} verdicts kept`);
  assert.equal(checks, 1 + 50_000 + 50, 'every new guess costs a check; the right one only when evicted');
});
