import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chapDigest } from '../../appliance/credentials/chap.js';
import { accessRequest, accountingRequest } from '../test-packets.js';
import {
  decryptUserPassword,
  encryptUserPassword,
  verifyChap,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
} from './authenticators.js';
import { AcctStatus } from './constants.js';
import { parseFrame, type Frame } from './framing.js';

const secret = Buffer.from('authenticator-test-secret');

function frameOf(packet: Buffer): Frame {
  const frame = parseFrame(packet);
  assert.ok(typeof frame !== 'string', frame as string);
  return frame;
}

function withBitFlipped(packet: Buffer, offset: number, bit: number): Buffer {
  const copy = Buffer.from(packet);
  copy[offset] = copy[offset]! ^ (1 << bit);
  return copy;
}

test('a CHAP response is accepted for the right password and refused with any bit of it changed', () => {
  const challenge = randomBytes(16);
  const response = Buffer.concat([Buffer.from([42]), chapDigest(42, 'secret-code', challenge)]);
  assert.ok(verifyChap(response, challenge, Buffer.from('secret-code')));
  assert.ok(!verifyChap(response, challenge, Buffer.from('secret-codf')));
  for (let offset = 1; offset < 17; offset++)
    assert.ok(!verifyChap(withBitFlipped(response, offset, offset % 8), challenge, Buffer.from('secret-code')));
});

test('Message-Authenticator is checked over all 16 octets, and only with the right secret', () => {
  const packet = accessRequest({ identifier: 9, secret, userName: 'guest', password: 'pw' });
  const offset = frameOf(packet).messageAuthenticatorOffset;
  assert.ok(verifyMessageAuthenticator(frameOf(packet), secret));
  assert.ok(!verifyMessageAuthenticator(frameOf(packet), Buffer.from('another-secret')));
  for (let i = 0; i < 16; i++)
    assert.ok(
      !verifyMessageAuthenticator(frameOf(withBitFlipped(packet, offset + 2 + i, i % 8)), secret),
      `octet ${i}`,
    );
});

test('an Accounting-Request authenticator is checked over all 16 octets', () => {
  const packet = accountingRequest({ identifier: 3, secret, status: AcctStatus.Start, sessionId: 's-1' });
  assert.ok(verifyRequestAuthenticator(frameOf(packet), secret));
  for (let i = 0; i < 16; i++)
    assert.ok(!verifyRequestAuthenticator(frameOf(withBitFlipped(packet, 4 + i, 7 - (i % 8))), secret), `octet ${i}`);
});

test('User-Password hiding round-trips for passwords of one to eight blocks', () => {
  const authenticator = randomBytes(16);
  for (const length of [1, 15, 16, 17, 31, 32, 33, 100, 128]) {
    const password = Buffer.alloc(length, 'p');
    const hidden = encryptUserPassword(password, authenticator, secret);
    assert.deepEqual(decryptUserPassword(hidden, authenticator, secret), password, `length ${length}`);
  }
});
