import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcctStatus } from './protocol/constants.js';
import { accessRequest, accountingRequest, statusServer } from './test-packets.js';
import { SECRET, useRunningFixture } from './test-fixtures.js';

const ITERATIONS = 5_000;
const secret = Buffer.from(SECRET);

/** Deterministic PRNG (mulberry32) so that a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (packet: Buffer, random: () => number) => Buffer;
const pick = (random: () => number, max: number): number => Math.floor(random() * max);

/** Attribute start offsets, for mutations that aim at an attribute's length octet. */
function attributeOffsets(packet: Buffer): number[] {
  const offsets: number[] = [];
  for (let offset = 20; offset + 1 < packet.length && packet[offset + 1]! >= 2; offset += packet[offset + 1]!)
    offsets.push(offset);
  return offsets;
}

const MUTATIONS: Record<string, Mutation> = {
  truncate: (packet, random) => packet.subarray(0, pick(random, packet.length)),
  lengthField: (packet, random) => {
    const copy = Buffer.from(packet);
    copy.writeUInt16BE(pick(random, 5000), 2);
    return copy;
  },
  attributeLength: (packet, random) => {
    const copy = Buffer.from(packet);
    const offsets = attributeOffsets(copy);
    copy[offsets[pick(random, offsets.length)]! + 1] = [0, 1, 255, pick(random, 256)][pick(random, 4)]!;
    return copy;
  },
  flipByte: (packet, random) => {
    const copy = Buffer.from(packet);
    const index = pick(random, copy.length);
    copy[index] = copy[index]! ^ (1 + pick(random, 255));
    return copy;
  },
  wrongAuthenticator: (packet, random) => {
    const copy = Buffer.from(packet);
    for (let i = 4; i < 20; i++) copy[i] = pick(random, 256);
    return copy;
  },
  appendAttribute: (packet, random) => {
    const extra = Buffer.from([pick(random, 256), [0, 1, 2, 255][pick(random, 4)]!, pick(random, 256)]);
    const copy = Buffer.concat([packet, extra]);
    copy.writeUInt16BE(copy.length, 2);
    return copy;
  },
  trailingPadding: (packet, random) => Buffer.concat([packet, Buffer.alloc(1 + pick(random, 16), pick(random, 256))]),
  garbage: (_packet, random) => Buffer.from(Array.from({ length: pick(random, 80) }, () => pick(random, 256))),
};

/** A NAS answers only what reaches it intact: the signed bytes unchanged (trailing padding is ignored, RFC 2865 §3). */
function shouldAnswer(original: Buffer, mutated: Buffer): boolean {
  return (
    mutated.length >= original.length &&
    mutated.subarray(0, original.length).equals(original) &&
    mutated.readUInt16BE(2) === original.length
  );
}

describe('RADIUS fuzzing', () => {
  const running = useRunningFixture();

  it(`stays up and never answers a packet it should drop (${ITERATIONS} mutated packets)`, async () => {
    const { client, server } = running;
    const random = prng(Number(process.env.FUZZ_SEED ?? 4242));
    const names = Object.keys(MUTATIONS);
    let expected = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const identifier = i % 256;
      const kind = i % 3;
      const original =
        kind === 0
          ? accessRequest({
              identifier,
              secret,
              userName: '02:00:00:00:00:01',
              password: 'x',
              callingStationId: '02-00-00-00-00-01',
            })
          : kind === 1
            ? accountingRequest({
                identifier,
                secret,
                status: AcctStatus.InterimUpdate,
                sessionId: `fuzz-${i % 7}`,
                subscriptionId: 'sub-user',
                inputOctets: i,
              })
            : statusServer(identifier, secret);
      const name = names[pick(random, names.length)]!;
      const mutated = MUTATIONS[name]!(original, random);
      if (shouldAnswer(original, mutated)) expected += 1;
      client.send(mutated, kind === 1 ? server.acctPort : server.authPort);
      // Let the server keep up so that no datagram is lost to a full buffer, which would hide an answer.
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const deadline = Date.now() + 5_000;
    while (client.replies.length < expected && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(expected > ITERATIONS / 20, 'some mutations leave the packet intact');
    assert.equal(client.replies.length, expected, 'exactly the intact packets were answered');
    assert.equal(server.stats.errors, 0);
    assert.ok(
      Object.keys(server.stats.dropped).length >= 5,
      `drops were classified: ${JSON.stringify(server.stats.dropped)}`,
    );
    const alive = await client.exchange(statusServer(7, secret), server.authPort);
    assert.ok(alive, 'the server still answers');
  });
});
