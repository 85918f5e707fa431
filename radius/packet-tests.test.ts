import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DIALECTS, removeNasClient } from '../appliance/nas/nas-clients.js';
import { createLoginContext } from '../appliance/sessions/access-policy.js';
import { LOGIN_MECHANISMS } from '../appliance/sessions/login/login-mechanisms.js';
import { verifyMessageAuthenticator, verifyResponseAuthenticator } from './protocol/authenticators.js';
import { decodePacket } from './protocol/codec.js';
import { Attr } from './protocol/constants.js';
import { parseFrame } from './protocol/framing.js';
import {
  applyGiven,
  buildRequest,
  parsePacketTest,
  shown,
  textOf,
  valueMatches,
  type PacketTest,
} from './packet-test-format.js';
import { accessRequest, TestClient } from './test-packets.js';
import { createFixture, PASSWORD, SECRET, startFixtureServer, useRunningFixture } from './test-fixtures.js';

const secret = Buffer.from(SECRET);
const DIR = fileURLToPath(new URL('./packet-tests/', import.meta.url));
const TESTS = readdirSync(DIR)
  .filter((file) => file.endsWith('.txt'))
  .sort()
  .map((file) => parsePacketTest(file, readFileSync(`${DIR}${file}`, 'utf8')));

/** Decoded attributes with vendor attributes alongside the standard ones, as a test file names them. */
function flatAttributes(raw: Buffer): { code: string; attributes: Record<string, unknown> } {
  const decoded = decodePacket(raw);
  assert.ok(decoded, 'the reply decodes');
  const { 'Vendor-Specific': vendor, ...standard } = decoded.attributes;
  return { code: decoded.code, attributes: { ...standard, ...(vendor as Record<string, unknown> | undefined) } };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** One file: a fresh store fixture and server, the request from the file's source, the reply compared. */
async function run(test: PacketTest): Promise<void> {
  const fixture = await createFixture({
    dialect: test.fixture.dialect,
    requireMessageAuthenticator: test.fixture.requireMessageAuthenticator,
  });
  const server = await startFixtureServer(fixture);
  const client = await TestClient.open(isIPv6(test.from) ? 'udp6' : 'udp4');
  try {
    if (!test.fixture.ipv6Nas) await removeNasClient(fixture.store, fixture.clock, 'test-nas-v6');
    if (test.given.length > 0)
      await fixture.store.update((db) => {
        for (const given of test.given) applyGiven(db, fixture.clock.now(), fixture.nasId, given);
      });
    const request = buildRequest(test, 7, secret);
    const port = test.port === 'auth' ? server.authPort : server.acctPort;
    if ('dropped' in test.expect) {
      const reason = test.expect.dropped;
      client.send(request, port, test.from);
      await waitFor(() => (server.stats.dropped[reason] ?? 0) > 0, 2000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(server.stats.dropped, { [reason]: 1 }, 'dropped once, for that reason');
      assert.equal(client.replies.length, 0, 'no reply');
      return;
    }
    const raw = await client.exchange(request, port, 2000, test.from);
    assert.ok(raw, 'a reply came');
    const frame = parseFrame(raw);
    assert.ok(typeof frame !== 'string', `the reply is well framed (${String(frame)})`);
    const requestAuthenticator = request.subarray(4, 20);
    assert.ok(verifyResponseAuthenticator(frame, requestAuthenticator, secret), 'Response Authenticator');
    if (test.port === 'auth') {
      assert.equal(frame.attributes[0]?.type, Attr.MessageAuthenticator, 'Message-Authenticator comes first');
      assert.ok(verifyMessageAuthenticator(frame, secret, requestAuthenticator), 'Message-Authenticator');
    }
    const reply = flatAttributes(raw);
    assert.equal(reply.code, test.expect.reply);
    const wrong = test.expect.attributes
      .filter(({ name, value }) => !valueMatches(reply.attributes[name], value))
      .map(({ name }) => `${name} is ${shown(reply.attributes[name])}`);
    assert.deepEqual(wrong, [], 'reply attributes');
    if (test.session.length > 0) {
      const named = test.request.kind === 'built' && test.request.attributes.find((a) => a.name === 'Acct-Session-Id');
      assert.ok(named, 'a session check needs the request to name its Acct-Session-Id');
      const session = Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === textOf(named.value));
      assert.ok(session, 'the session is live');
      const fields = session as unknown as Record<string, unknown>;
      const wrongFields = test.session
        .filter(({ name, value }) => !valueMatches(fields[name], value))
        .map(({ name }) => `session ${name} is ${shown(fields[name])}`);
      assert.deepEqual(wrongFields, [], 'session fields');
    }
  } finally {
    await client.close();
    await server.close();
    await fixture.close();
  }
}

describe('RADIUS packet tests (radius/packet-tests/*.txt: request → expected reply)', () => {
  for (const test of TESTS) {
    const outcome = 'dropped' in test.expect ? `dropped (${test.expect.dropped})` : test.expect.reply;
    it(`${test.name.replace(/\.txt$/, '')} → ${outcome}: ${test.description}`, () => run(test));
  }
});

describe('the packet tests cover', () => {
  const accepts = TESTS.filter((test) => 'reply' in test.expect && test.expect.reply === 'Access-Accept');
  const rejects = TESTS.filter((test) => 'reply' in test.expect && test.expect.reply === 'Access-Reject');

  it('an Access-Accept in every NAS dialect', () => {
    for (const dialect of DIALECTS)
      assert.ok(
        accepts.some((test) => test.fixture.dialect === dialect),
        `no accept for ${dialect}`,
      );
  });

  it('an accept and a reject for every login mechanism, as the policy routes their user names', async (t) => {
    const fixture = await createFixture();
    t.after(() => fixture.close());
    const context = createLoginContext({
      store: fixture.store,
      clock: fixture.clock,
      verifyPassword: async () => false,
      passwordCacheSeconds: 0,
    });
    const mechanismOf = (test: PacketTest): string | undefined => {
      const userName = test.request.kind === 'built' && test.request.attributes.find((a) => a.name === 'User-Name');
      if (!userName) return undefined;
      const request = { userName: textOf(userName.value), proof: { kind: 'none' } as const, mac: null, ip: null };
      return LOGIN_MECHANISMS.find((mechanism) => mechanism.claims(request, context))?.name;
    };
    for (const { name } of LOGIN_MECHANISMS) {
      assert.ok(
        accepts.some((test) => mechanismOf(test) === name),
        `no accept for ${name}`,
      );
      assert.ok(
        rejects.some((test) => mechanismOf(test) === name),
        `no reject for ${name}`,
      );
    }
  });
});

describe('RADIUS retransmissions', () => {
  const running = useRunningFixture();

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
});
