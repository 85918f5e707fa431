import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinIntoSlab } from './response-slab.js';

describe('response bodies joined into shared slabs', () => {
  it('each body holds its parts back to back, and later bodies never overwrite an earlier one', () => {
    const bodies: Array<{ body: Buffer; text: string }> = [];
    // Enough bodies to fill several slabs.
    for (let i = 0; i < 200; i++) {
      const parts = ['<html>', `token-${i}`, 'x'.repeat(9_000 + (i % 13)), '</html>'];
      bodies.push({ body: joinIntoSlab(parts.map((p) => Buffer.from(p))), text: parts.join('') });
    }
    for (const { body, text } of bodies) assert.equal(body.toString(), text);
  });

  it('a body larger than a quarter slab gets a buffer of its own', () => {
    const big = Buffer.alloc(100_000, 97);
    const body = joinIntoSlab([big, Buffer.from('!')]);
    assert.equal(body.length, 100_001);
    assert.equal(body.byteOffset, 0);
    assert.equal(body.buffer.byteLength, 100_001);
  });
});
