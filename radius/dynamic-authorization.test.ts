import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { type SessionEnforcer } from '../appliance/sessions/enforcer.js';
import { throttleLimits } from '../appliance/sessions/limits.js';
import { compileDialects } from './dialects.js';
import { Attr } from './protocol/constants.js';
import { hasTool, requireSystem } from '../appliance/testing/system-tools.js';
import { type DynamicAuthorizationClient } from './dynamic-authorization-client.js';
import { coaNasConfig, freeUdpPort, startFreeRadius, type RunningFreeRadius } from './freeradius-harness.js';
import { attributeOf, radclient } from './radclient-driver.js';
import type { RadiusServer } from './server.js';
import { createFixture, startFixtureServer, GIB, PASSWORD, reachNasAt, SECRET, type Fixture } from './test-fixtures.js';

interface CoaRecord {
  kind: string;
  outcome: string;
  acctSessionId: string;
  reason: string;
  errorCause?: number;
  errorCauseName?: string;
  attempts: number;
}

test('a CoA tells a generic NAS the time left, CoovaChilli the time since the session started plus the time left', () => {
  const dialects = compileDialects();
  const limits = { ...throttleLimits({ upKbps: 1000, downKbps: 5000 }), sessionTimeout: 3000, bytesLeft: 100 };
  const progress = { elapsedSeconds: 600, octets: 40 };
  const sessionTimeoutOf = (attributes: Buffer[]): number | undefined =>
    attributes.find((attribute) => attribute[0] === Attr.SessionTimeout)?.readUInt32BE(2);
  assert.equal(sessionTimeoutOf(dialects.generic.encodeChange(limits, progress)), 3000);
  assert.equal(sessionTimeoutOf(dialects.coovachilli.encodeChange(limits, progress)), 3600);
  const throttle = dialects.coovachilli.encodeChange(throttleLimits({ upKbps: 128, downKbps: 256 }), progress);
  assert.equal(sessionTimeoutOf(throttle), undefined, 'a throttle leaves the session timeout alone');
  assert.equal(throttle.length, 2, 'a throttle carries just the two rates');
});

describe('dynamic authorization (RFC 5176) against a FreeRADIUS NAS stand-in', () => {
  let dir: string;
  let nas: RunningFreeRadius | null = null;
  let coaPort: number;
  let fixture: Fixture;
  let server: RadiusServer;
  let client: DynamicAuthorizationClient;
  let enforcer: SessionEnforcer;
  let acct: string;

  before(async () => {
    // Without the daemons each test skips (or fails under CI) through requireSystem.
    if (!hasTool('freeradius') || !hasTool('radclient')) return;
    dir = await mkdtemp(join(tmpdir(), 'turnpike-nas-'));
    coaPort = await freeUdpPort();
    nas = await startFreeRadius(
      dir,
      coaNasConfig(dir, {
        port: coaPort,
        secret: SECRET,
        requireMessageAuthenticator: true,
        // A session the NAS no longer knows is NAKed with the Error-Cause RFC 5176 names for it.
        recvCoa: `    if (&Acct-Session-Id == "gone") {
      update reply {
        &Error-Cause := Session-Context-Not-Found
      }
      reject
    }`,
      }),
    );
    // FreeRADIUS 3.2.1 signs none of its replies: as a NAS it must be one not held to Message-Authenticator.
    fixture = await createFixture({
      dialect: 'coovachilli',
      requireMessageAuthenticator: false,
      radius: { coaTimeoutMs: 100, coaRetries: 1 },
    });
    ({ client, enforcer } = await reachNasAt(fixture, coaPort));
    server = await startFixtureServer(fixture, enforcer);
    acct = `127.0.0.1:${server.acctPort}`;
  });
  after(async () => {
    await server?.close();
    await client?.close();
    await nas?.stop();
    await fixture?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const coaHistory = async (): Promise<CoaRecord[]> => fixture.store.history<CoaRecord>('coa').readAll();
  const waitFor = async <T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    for (let i = 0; i < 100; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('timed out waiting');
  };

  it('sends Disconnect-Request when accounting shows the quota spent, and records the ACK', async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    const start = await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Start\nAcct-Session-Id = "quota-1"\nClass = "tp1:sub-user"\n`,
    );
    assert.equal(start.reply, 'Accounting-Response');
    // 5 GiB plan: one Gigaword plus 1 GiB crosses it.
    const interim = await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Interim-Update\nAcct-Session-Id = "quota-1"\nClass = "tp1:sub-user"\nAcct-Input-Octets = ${GIB + 10}\nAcct-Input-Gigawords = 1\n`,
    );
    assert.equal(interim.reply, 'Accounting-Response');
    const record = await waitFor(async () => (await coaHistory()).find((entry) => entry.acctSessionId === 'quota-1'));
    assert.equal(record.kind, 'disconnect');
    assert.equal(record.outcome, 'ack');
    assert.equal(record.reason, 'quota-spent');
    assert.match(
      nas!.output(),
      /Received Disconnect-Request[^\n]*\n[^\n]*Message-Authenticator[\s\S]*?Acct-Session-Id = "quota-1"/,
    );
    const session = Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'quota-1');
    assert.equal(session?.disconnectPendingSince, null, 'an answered disconnect leaves nothing pending');
    // The NAS then stops the session as usual.
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Stop\nAcct-Session-Id = "quota-1"\nClass = "tp1:sub-user"\nAcct-Input-Octets = ${GIB + 10}\nAcct-Input-Gigawords = 1\n`,
    );
    await fixture.store.update((db) => {
      db.subscriptions['sub-user']!.bytesUsed = 0;
    });
  });

  it('records a NAK with its Error-Cause and drops a session the NAS no longer has', async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Start\nAcct-Session-Id = "gone"\nClass = "tp1:sub-user"\n`,
    );
    const session = Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'gone')!;
    const outcome = await enforcer.kick(session.id);
    assert.deepEqual(outcome.result, {
      outcome: 'nak',
      attempts: 1,
      errorCause: 503,
      errorCauseName: 'Session-Context-Not-Found',
    });
    assert.equal(fixture.store.db.sessions[session.id], undefined);
    const record = (await coaHistory()).find((entry) => entry.acctSessionId === 'gone')!;
    assert.equal(record.reason, 'staff-kick');
    assert.equal(record.errorCause, 503);
    const closed = await fixture.store.history<{ acctSessionId: string; reason: string }>('closed-sessions').readAll();
    assert.equal(closed.find((entry) => entry.acctSessionId === 'gone')?.reason, 'nas-lost-session');
  });

  it('sends CoA-Request with the throttle rate when a throttling plan spends its quota', async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    await fixture.store.update((db) => {
      db.plans['plan-day']!.onQuotaExhausted = { action: 'throttle', upKbps: 128, downKbps: 256 };
    });
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Start\nAcct-Session-Id = "slow-1"\nClass = "tp1:sub-user"\n`,
    );
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Interim-Update\nAcct-Session-Id = "slow-1"\nClass = "tp1:sub-user"\nAcct-Output-Octets = ${GIB}\nAcct-Output-Gigawords = 1\n`,
    );
    const record = await waitFor(async () => (await coaHistory()).find((entry) => entry.acctSessionId === 'slow-1'));
    assert.equal(record.kind, 'coa');
    assert.equal(record.outcome, 'ack');
    assert.match(
      nas!.output(),
      /Received CoA-Request[\s\S]*?Acct-Session-Id = "slow-1"[\s\S]*?WISPr-Bandwidth-Max-Up = 128000[\s\S]*?WISPr-Bandwidth-Max-Down = 256000/,
    );
    assert.ok(
      fixture.store.db.sessions[Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'slow-1')!.id],
      'throttled, not cut',
    );
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Stop\nAcct-Session-Id = "slow-1"\nClass = "tp1:sub-user"\n`,
    );
    await fixture.store.update((db) => {
      db.plans['plan-day']!.onQuotaExhausted = { action: 'disconnect' };
      db.subscriptions['sub-user']!.bytesUsed = 0;
    });
  });

  it("sends CoA-Request with the new Session-Timeout when a live session's plan is extended, and the NAS ACKs it", async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Start\nAcct-Session-Id = "longer-1"\nClass = "tp1:sub-user"\n`,
    );
    fixture.clock.advance(600_000);
    await fixture.store.update((db) => {
      db.subscriptions['sub-user']!.endsAt! += 3_600_000;
    });
    const secondsLeft = Math.floor((fixture.store.db.subscriptions['sub-user']!.endsAt! - fixture.clock.now()) / 1000);
    const [outcome] = await enforcer.refreshLimits('sub-user');
    assert.deepEqual(outcome?.result, { outcome: 'ack', attempts: 1 });
    // CoovaChilli measures Session-Timeout from the session's start: 600 s gone plus the time left.
    assert.match(
      nas!.output(),
      new RegExp(
        `Received CoA-Request[\\s\\S]*?Acct-Session-Id = "longer-1"[\\s\\S]*?Session-Timeout = ${600 + secondsLeft}\\b`,
      ),
    );
    const record = (await coaHistory()).find((entry) => entry.acctSessionId === 'longer-1');
    assert.equal(record?.kind, 'coa');
    assert.equal(record?.reason, 'limits-changed');
    assert.equal(record?.outcome, 'ack');
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Stop\nAcct-Session-Id = "longer-1"\nClass = "tp1:sub-user"\n`,
    );
  });

  it('when the NAS never answers, marks the disconnect pending, refuses the next login and asks again on the next Interim-Update', async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Start\nAcct-Session-Id = "deaf-1"\nClass = "tp1:sub-user"\nCalling-Station-Id = "02-00-00-00-00-31"\n`,
    );
    const session = Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'deaf-1')!;
    const silentPort = await freeUdpPort();
    await fixture.store.update((db) => {
      db.nasClients[fixture.nasId]!.coaPort = silentPort;
    });
    const outcome = await enforcer.kick(session.id);
    assert.deepEqual(outcome.result, { outcome: 'timeout', attempts: 2 });
    assert.equal(fixture.store.db.sessions[session.id]!.disconnectPendingSince, fixture.clock.now());
    const login = await radclient(
      `127.0.0.1:${server.authPort}`,
      'auth',
      SECRET,
      `User-Name = "guest@example.org"\nUser-Password = "${PASSWORD}"\nMessage-Authenticator = 0x00\n`,
    );
    assert.equal(login.reply, 'Access-Reject');
    assert.match(attributeOf(login, 'Reply-Message')!, /still being closed/);
    await fixture.store.update((db) => {
      db.nasClients[fixture.nasId]!.coaPort = coaPort;
    });
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Interim-Update\nAcct-Session-Id = "deaf-1"\nClass = "tp1:sub-user"\nAcct-Input-Octets = 10\n`,
    );
    const retried = await waitFor(async () =>
      (await coaHistory()).find((entry) => entry.acctSessionId === 'deaf-1' && entry.outcome === 'ack'),
    );
    assert.equal(retried.reason, 'unanswered-disconnect');
    assert.equal(fixture.store.db.sessions[session.id]!.disconnectPendingSince, null);
  });
});
