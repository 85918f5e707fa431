import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { removeNasClient } from '../appliance/nas/nas-clients.js';
import { verifyMessageAuthenticator, verifyResponseAuthenticator } from './protocol/authenticators.js';
import { decodePacket } from './protocol/codec.js';
import { Attr, Code } from './protocol/constants.js';
import { tlv } from './protocol/encode.js';
import { parseFrame, type Frame } from './protocol/framing.js';
import { accessRequest, statusServer, TestClient } from './test-packets.js';
import { PASSWORD, SECRET, useRunningFixture } from './test-fixtures.js';

const secret = Buffer.from(SECRET);

interface Case {
  name: string;
  request: (identifier: number) => Buffer;
  /** The reply code and attributes (name → value) expected, or null for silence. */
  reply: { code: string; attributes?: Record<string, unknown>; firstAttribute?: string } | null;
}

/** Requests and the replies they must get, side by side. */
const CASES: Case[] = [
  {
    name: 'PAP account login',
    request: (id) => accessRequest({ identifier: id, secret, userName: 'guest@example.org', password: PASSWORD }),
    reply: {
      code: 'Access-Accept',
      firstAttribute: 'Message-Authenticator',
      attributes: { 'Idle-Timeout': 600, 'Acct-Interim-Interval': 300, Class: Buffer.from('tp1:sub-user') },
    },
  },
  {
    name: 'Proxy-State is echoed',
    request: (id) =>
      accessRequest({
        identifier: id,
        secret,
        userName: 'guest@example.org',
        password: PASSWORD,
        extra: [tlv(Attr.ProxyState, Buffer.from('proxy-1'))],
      }),
    reply: { code: 'Access-Accept', attributes: { 'Proxy-State': Buffer.from('proxy-1') } },
  },
  {
    name: 'User-Password and CHAP-Password together',
    request: (id) =>
      accessRequest({
        identifier: id,
        secret,
        userName: 'guest@example.org',
        password: PASSWORD,
        chapPassword: PASSWORD,
      }),
    reply: {
      code: 'Access-Reject',
      firstAttribute: 'Message-Authenticator',
      attributes: { 'Reply-Message': 'The code or password is wrong; check it and try again' },
    },
  },
  {
    name: 'account password over CHAP (bcrypt cannot answer it)',
    request: (id) => accessRequest({ identifier: id, secret, userName: 'guest@example.org', chapPassword: PASSWORD }),
    reply: { code: 'Access-Reject' },
  },
  {
    name: 'no credential at all',
    request: (id) => accessRequest({ identifier: id, secret, userName: 'guest@example.org' }),
    reply: { code: 'Access-Reject' },
  },
  {
    name: 'missing Message-Authenticator',
    request: (id) =>
      accessRequest({
        identifier: id,
        secret,
        userName: 'guest@example.org',
        password: PASSWORD,
        messageAuthenticator: false,
      }),
    reply: null,
  },
  {
    name: 'Status-Server',
    request: (id) => statusServer(id, secret),
    reply: { code: 'Access-Accept', firstAttribute: 'Message-Authenticator' },
  },
  {
    name: 'an Accounting-Request on the auth port',
    request: (id) => Buffer.concat([Buffer.from([Code.AccountingRequest, id, 0, 20]), Buffer.alloc(16)]),
    reply: null,
  },
];

function firstAttributeName(frame: Frame): string | undefined {
  const first = frame.attributes[0];
  return first?.type === Attr.MessageAuthenticator ? 'Message-Authenticator' : first ? String(first.type) : undefined;
}

describe('RADIUS packet fixtures', () => {
  const running = useRunningFixture();

  CASES.forEach((testCase, index) => {
    it(`${testCase.name} → ${testCase.reply ? testCase.reply.code : 'no reply'}`, async () => {
      const { client, server } = running;
      const request = testCase.request(index);
      const raw = await client.exchange(request, server.authPort, testCase.reply ? 2000 : 300);
      if (!testCase.reply) return assert.equal(raw, null);
      assert.ok(raw, 'a reply came');
      const frame = parseFrame(raw);
      assert.ok(typeof frame !== 'string');
      assert.ok(verifyResponseAuthenticator(frame, request.subarray(4, 20), secret), 'Response Authenticator');
      assert.ok(verifyMessageAuthenticator(frame, secret, request.subarray(4, 20)), 'Message-Authenticator');
      const decoded = decodePacket(raw)!;
      assert.equal(decoded.code, testCase.reply.code);
      if (testCase.reply.firstAttribute) assert.equal(firstAttributeName(frame), testCase.reply.firstAttribute);
      for (const [name, value] of Object.entries(testCase.reply.attributes ?? {}))
        assert.deepEqual(decoded.attributes[name], value, name);
    });
  });

  it('answers a retransmission from the duplicate cache without processing it again', async () => {
    const { client, server } = running;
    const request = accessRequest({ identifier: 200, secret, userName: 'guest@example.org', password: PASSWORD });
    const first = await client.exchange(request, server.authPort);
    const accepts = server.stats.accessAccepts;
    const again = await client.exchange(request, server.authPort);
    assert.ok(first && again);
    assert.ok(again.equals(first), 'byte-identical reply');
    assert.equal(server.stats.accessAccepts, accepts, 'not processed twice');
    assert.ok(server.stats.duplicates >= 1);
  });

  it('drops packets from an address that is no NAS, and counts them', async () => {
    const { fixture, server } = running;
    await removeNasClient(fixture.store, fixture.clock, 'test-nas-v6');
    const v6 = await TestClient.open('udp6');
    try {
      const reply = await v6.exchange(statusServer(1, secret), server.authPort, 300, '::1');
      assert.equal(reply, null);
      assert.equal(server.stats.dropped['unknown-client'], 1);
    } finally {
      await v6.close();
    }
  });
});
