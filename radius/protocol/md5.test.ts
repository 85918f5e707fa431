import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Md5 } from './md5.js';

test('MD5 matches node:crypto for every length from 0 to 300 octets', () => {
  const md5 = new Md5();
  for (let length = 0; length <= 300; length++) {
    const data = randomBytes(length);
    assert.deepEqual(md5.reset().update(data).digest(), createHash('md5').update(data).digest(), `length ${length}`);
  }
});

test('MD5 gives the same digest however the input is split into updates and ranges', () => {
  const md5 = new Md5();
  for (let length = 0; length <= 300; length += 7) {
    const data = randomBytes(length);
    const cut = Math.floor(length / 3);
    const split = md5
      .reset()
      .update(data, 0, cut)
      .update(data.subarray(cut, 2 * cut))
      .update(data, 2 * cut)
      .digest();
    assert.deepEqual(split, createHash('md5').update(data).digest(), `length ${length}`);
  }
});

test('MD5 resumed from a snapshot after whole blocks equals hashing the whole input', () => {
  const prefix = randomBytes(128);
  const rest = randomBytes(45);
  const state = new Md5().update(prefix).snapshot();
  const resumed = new Md5().reset(state, prefix.length).update(rest).digest();
  assert.deepEqual(resumed, createHash('md5').update(prefix).update(rest).digest());
});
