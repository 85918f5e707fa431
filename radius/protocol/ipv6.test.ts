import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../shared/clock.js';
import type { Session } from '../../appliance/domain/model.js';
import { nasClientRecord } from '../../appliance/testing/nas-client-record.js';
import { silentLogger } from '../../shared/logger.js';
import { createDynamicAuthorizationClient } from '../dynamic-authorization-client.js';
import { Attr } from './constants.js';
import { allAttributes, firstAttribute, parseFrame } from './framing.js';
import { decodeIpv6Address, decodeIpv6Prefix, encodeIpv6Address, encodeIpv6Prefix } from './ipv6.js';

test('IPv6 addresses and prefixes encode as RFC 3162 says and decode to their canonical text', () => {
  const address = encodeIpv6Address('2001:DB8:0:0::5')!;
  assert.equal(address.toString('hex'), '20010db8000000000000000000000005');
  assert.equal(decodeIpv6Address(address), '2001:db8::5');
  const prefix = encodeIpv6Prefix('2001:db8:200::/56')!;
  assert.equal(prefix.toString('hex'), '003820010db8020000', 'reserved, length, then only the octets the length needs');
  assert.equal(decodeIpv6Prefix(prefix), '2001:db8:200::/56');
  assert.equal(decodeIpv6Prefix(Buffer.from('0040', 'hex')), null, 'a /64 without its octets');
  assert.equal(decodeIpv6Prefix(Buffer.from('0081' + '00'.repeat(16), 'hex')), null, 'longer than 128');
  assert.equal(decodeIpv6Address(Buffer.alloc(4)), null);
  assert.equal(encodeIpv6Address('10.0.0.1'), null);
});

/** The Disconnect-Request the client sends for `session`, as the NAS receives it. */
async function disconnectRequestFor(t: TestContext, session: Partial<Session>) {
  const nasSocket = createSocket('udp4');
  await new Promise<void>((resolve) => nasSocket.bind(0, '127.0.0.1', resolve));
  t.after(() => nasSocket.close());
  const received = new Promise<Buffer>((resolve) => nasSocket.once('message', resolve));
  const client = createDynamicAuthorizationClient({
    clock: new ManualClock(),
    logger: silentLogger,
    timeoutMs: 50,
    retries: 0,
  });
  t.after(() => client.close());
  const nas = nasClientRecord({ id: 'nas', coaPort: (nasSocket.address() as AddressInfo).port });
  const answered = client.disconnect({
    session: { id: 'nas/s', acctSessionId: 's', startedAt: 0, inputOctets: 0, outputOctets: 0, ...session } as Session,
    nas,
  });
  const frame = parseFrame(await received);
  if (typeof frame === 'string') throw new Error(`unparsable Disconnect-Request: ${frame}`);
  assert.equal((await answered).outcome, 'timeout');
  return frame;
}

test('a Disconnect-Request names an IPv6-only session by its IPv6 address and prefix', async (t) => {
  const frame = await disconnectRequestFor(t, { ip: '2001:db8::5', ipv6Prefixes: ['2001:db8:1::/64'] });
  assert.equal(decodeIpv6Address(firstAttribute(frame, Attr.FramedIpv6Address)), '2001:db8::5');
  assert.deepEqual(allAttributes(frame, Attr.FramedIpv6Prefix).map(decodeIpv6Prefix), ['2001:db8:1::/64']);
  assert.equal(firstAttribute(frame, Attr.FramedIpAddress), undefined);
});

test('a Disconnect-Request names a dual-stack session by both its addresses', async (t) => {
  const frame = await disconnectRequestFor(t, { ip: '10.1.0.7', ipv6Address: '2001:db8::7' });
  assert.equal(firstAttribute(frame, Attr.FramedIpAddress)?.join('.'), '10.1.0.7');
  assert.equal(decodeIpv6Address(firstAttribute(frame, Attr.FramedIpv6Address)), '2001:db8::7');
});
