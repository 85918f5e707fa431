import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, Code } from './constants.js';
import { buildPacket, integerTlv, integerVendorTlv, textTlv } from './encode.js';

const secret = Buffer.from('encode-test-secret');

test('a Status-Server built without an authenticator carries zeros there, not leftover memory', () => {
  for (let i = 0; i < 50; i++) Buffer.allocUnsafe(64).fill(0xa5);
  const packet = buildPacket({
    code: Code.StatusServer,
    identifier: 1,
    authenticator: null,
    attributes: [],
    secret,
    messageAuthenticator: true,
  });
  assert.deepEqual(packet.subarray(4, 20), Buffer.alloc(16));
});

test('the same reply built twice is byte-identical', () => {
  const spec = {
    code: Code.AccessAccept,
    identifier: 7,
    authenticator: Buffer.alloc(16, 3),
    attributes: [integerTlv(Attr.SessionTimeout, 3600), textTlv(Attr.Class, 'tp1:s-1')],
    secret,
    messageAuthenticator: true,
  };
  assert.deepEqual(buildPacket(spec), buildPacket(spec));
});

test('integer attributes are written in place, clamped to 32 bits', () => {
  assert.deepEqual(integerTlv(Attr.IdleTimeout, 2 ** 40), Buffer.from([28, 6, 0xff, 0xff, 0xff, 0xff]));
  assert.deepEqual(
    integerVendorTlv(14122, 7, 1_000_000.7),
    Buffer.from([26, 12, 0, 0, 0x37, 0x2a, 7, 6, 0x00, 0x0f, 0x42, 0x40]),
  );
  assert.deepEqual(textTlv(Attr.ReplyMessage, 'é'), Buffer.from([18, 4, 0xc3, 0xa9]));
});
