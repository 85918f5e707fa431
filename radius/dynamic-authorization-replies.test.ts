import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../shared/clock.js';
import type { NasClient, Session } from '../appliance/domain/model.js';
import { silentLogger } from '../shared/logger.js';
import { createDynamicAuthorizationClient } from './dynamic-authorization-client.js';
import { Code } from './protocol/constants.js';
import { buildPacket } from './protocol/encode.js';

const SECRET = 'a-long-shared-secret';

/** A NAS that answers every Disconnect-Request with an ACK, signed with Message-Authenticator or not. */
async function fakeNas(t: TestContext, signs: boolean): Promise<number> {
  const socket = createSocket('udp4');
  socket.on('message', (request, peer) => {
    const reply = buildPacket({
      code: Code.DisconnectAck,
      identifier: request[1]!,
      authenticator: request.subarray(4, 20),
      attributes: [],
      secret: Buffer.from(SECRET),
      messageAuthenticator: signs,
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => socket.close());
  return (socket.address() as AddressInfo).port;
}

async function disconnectOutcome(t: TestContext, options: { nasSigns: boolean; nasRequiresMa: boolean }) {
  const client = createDynamicAuthorizationClient({
    clock: new ManualClock(),
    logger: silentLogger,
    timeoutMs: 100,
    retries: 0,
  });
  t.after(() => client.close());
  const nas = {
    id: 'nas',
    name: 'nas',
    source: '127.0.0.1',
    secret: SECRET,
    dialect: 'generic',
    coaPort: await fakeNas(t, options.nasSigns),
    requireMessageAuthenticator: options.nasRequiresMa,
    createdAt: 0,
  } as NasClient;
  const session = { id: 'nas/a', acctSessionId: 'a', ip: '10.0.0.5', startedAt: 0 } as Session;
  return (await client.disconnect({ session, nas })).outcome;
}

test('an unsigned Disconnect-ACK from a NAS held to Message-Authenticator is not believed (BlastRADIUS)', async (t) => {
  assert.equal(await disconnectOutcome(t, { nasSigns: false, nasRequiresMa: true }), 'timeout');
});

test('a signed Disconnect-ACK is believed; so is an unsigned one from a NAS not held to Message-Authenticator', async (t) => {
  assert.equal(await disconnectOutcome(t, { nasSigns: true, nasRequiresMa: true }), 'ack');
  assert.equal(await disconnectOutcome(t, { nasSigns: false, nasRequiresMa: false }), 'ack');
});
