import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuplicateCache, type DuplicateVerdict, type PendingRequest } from './duplicate-cache.js';

const WINDOW_MS = 5000;

function request(identifier: number, authenticator: Uint8Array = randomBytes(16)): Buffer {
  return Buffer.concat([Buffer.from([1, identifier, 0, 20]), authenticator]);
}

function reserved(verdict: DuplicateVerdict): PendingRequest {
  assert.equal(verdict.kind, 'new');
  return verdict.request;
}

test('a retransmission after the reply gets the same reply bytes; while in progress it is dropped', () => {
  const cache = new DuplicateCache(WINDOW_MS);
  const packet = request(7);
  const pending = reserved(cache.check(40000, packet, 0));
  assert.deepEqual(cache.check(40000, Buffer.from(packet), 10), { kind: 'in-progress' });
  const reply = randomBytes(38);
  cache.complete(pending, reply);
  const again = cache.check(40000, Buffer.from(packet), 20);
  assert.equal(again.kind, 'replay');
  assert.equal(again.kind === 'replay' && again.reply, reply);
});

test('another authenticator, identifier or source port is a new request', () => {
  const cache = new DuplicateCache(WINDOW_MS);
  const packet = request(7);
  cache.complete(reserved(cache.check(40000, packet, 0)), randomBytes(20));
  const otherAuthenticator = Buffer.from(packet);
  otherAuthenticator[19] = packet[19]! ^ 1;
  assert.equal(cache.check(40000, otherAuthenticator, 1).kind, 'new');
  assert.equal(cache.check(40000, request(8, packet.subarray(4, 20)), 1).kind, 'new');
  assert.equal(cache.check(40001, packet, 1).kind, 'new');
});

test('the window expires, and a request dropped after all is forgotten at once', () => {
  const cache = new DuplicateCache(WINDOW_MS);
  const packet = request(1);
  cache.complete(reserved(cache.check(40000, packet, 0)), randomBytes(20));
  assert.equal(cache.check(40000, packet, WINDOW_MS).kind, 'new', 'expired');
  const dropped = request(2);
  cache.complete(reserved(cache.check(40000, dropped, 0)), null);
  assert.equal(cache.check(40000, dropped, 1).kind, 'new', 'forgotten');
});

test('a late completion of an older request does not touch the newer one in its slot', () => {
  const cache = new DuplicateCache(WINDOW_MS);
  const older = reserved(cache.check(40000, request(3), 0));
  const newer = request(3);
  reserved(cache.check(40000, newer, 1));
  cache.complete(older, null);
  assert.deepEqual(cache.check(40000, newer, 2), { kind: 'in-progress' });
});

test('stays within its bound, and a zero window remembers nothing', () => {
  const bounded = new DuplicateCache(WINDOW_MS, 100);
  for (let port = 0; port < 10; port++) for (let id = 0; id < 256; id++) bounded.check(40000 + port, request(id), 0);
  assert.ok(bounded.size <= 100 + 64, `size ${bounded.size}`);
  const off = new DuplicateCache(0);
  const packet = request(5);
  off.complete(reserved(off.check(40000, packet, 0)), randomBytes(20));
  assert.equal(off.check(40000, packet, 0).kind, 'new');
  assert.equal(off.size, 0);
});
