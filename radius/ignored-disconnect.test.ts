import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../shared/logger.js';
import { NasObservations } from '../appliance/nas/nas-observations.js';
import { flushNasTrust, nasTrustFigures } from '../appliance/nas/nas-trust.js';
import { type SessionEnforcer } from '../appliance/sessions/enforcer.js';
import { MAX_DISCONNECT_RETRIES, RETRY_BACKOFF_MS } from '../appliance/sessions/ignored-disconnect.js';
import { sweepSessions } from '../appliance/sessions/sweeper.js';
import { hasTool, requireSystem } from '../appliance/testing/system-tools.js';
import { type DynamicAuthorizationClient } from './dynamic-authorization-client.js';
import { coaNasConfig, freeUdpPort, startFreeRadius, type RunningFreeRadius } from './freeradius-harness.js';
import { radclient } from './radclient-driver.js';
import { createRadiusMetrics } from './radius-metrics.js';
import { startRadiusServer, type RadiusServer } from './server.js';
import { createFixture, PASSWORD, reachNasAt, SECRET, type Fixture } from './test-fixtures.js';

interface CoaRecord {
  kind: string;
  outcome: string;
  acctSessionId: string;
  reason: string;
}

interface AuditLine {
  action: string;
  actor?: { kind: string };
  actorId: string | null;
  target: string | null;
  details?: { acctSessionId?: string; nas?: string };
}

describe('a NAS that acks a disconnect but keeps forwarding (FreeRADIUS NAS stand-in)', () => {
  let dir: string;
  let nas: RunningFreeRadius | null = null;
  let fixture: Fixture;
  let server: RadiusServer;
  let client: DynamicAuthorizationClient;
  let enforcer: SessionEnforcer;
  let acct: string;
  const registry = new Registry();
  const observations = new NasObservations();

  before(async () => {
    if (!hasTool('freeradius') || !hasTool('radclient')) return;
    dir = await mkdtemp(join(tmpdir(), 'tp-h13n-nas-'));
    const coaPort = await freeUdpPort();
    nas = await startFreeRadius(dir, coaNasConfig(dir, { port: coaPort, secret: SECRET }));
    // FreeRADIUS 3.2.1 signs none of its replies: as a NAS it must be one not held to Message-Authenticator.
    fixture = await createFixture({
      dialect: 'coovachilli',
      requireMessageAuthenticator: false,
      radius: { coaTimeoutMs: 200, coaRetries: 1 },
    });
    ({ client, enforcer } = await reachNasAt(fixture, coaPort));
    server = await startRadiusServer({
      config: fixture.config,
      store: fixture.store,
      clock: fixture.clock,
      logger: silentLogger,
      policy: fixture.policy,
      enforcer,
      metrics: createRadiusMetrics(registry),
      observations,
    });
    acct = `127.0.0.1:${server.acctPort}`;
  });
  after(async () => {
    await server?.close();
    await client?.close();
    await nas?.stop();
    await fixture?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const accounting = async (status: string, id: string, sessionTime?: number): Promise<void> => {
    const time = sessionTime === undefined ? '' : `Acct-Session-Time = ${sessionTime}\n`;
    const reply = await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = ${status}\nAcct-Session-Id = "${id}"\nClass = "tp1:sub-user"\n${time}`,
    );
    assert.equal(reply.reply, 'Accounting-Response', reply.output);
  };
  const disconnects = async (id: string): Promise<CoaRecord[]> =>
    (await fixture.store.history<CoaRecord>('coa').readAll()).filter(
      (entry) => entry.acctSessionId === id && entry.kind === 'disconnect',
    );
  const waitFor = async (probe: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if (await probe()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('timed out waiting');
  };
  const sessionOf = (id: string) => Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === id);
  const counted = async (): Promise<string | undefined> =>
    (await registry.metrics())
      .split('\n')
      .find((line) => line.startsWith('turnpike_radius_acks_but_keeps_forwarding_total{nas="test-nas"}'));
  const flagged = async (): Promise<AuditLine[]> =>
    (await fixture.store.history<AuditLine>('audit').readAll()).filter(
      (line) => line.action === 'nas.acks-but-keeps-forwarding',
    );

  it('a NAS that acks and then stops the session is not flagged, even for an update it sent just before the ACK', async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    await accounting('Start', 'honest-1');
    fixture.clock.advance(10_000);
    const outcome = await enforcer.kick(sessionOf('honest-1')!.id);
    assert.equal(outcome.result.outcome, 'ack');
    // Built before the NAS saw the request: its Acct-Session-Time ends at the ACK.
    await accounting('Interim-Update', 'honest-1', 10);
    await accounting('Stop', 'honest-1', 11);
    assert.equal(sessionOf('honest-1'), undefined, 'the Stop closed it');
    assert.equal((await disconnects('honest-1')).length, 1, 'nothing retried');
    assert.equal(await counted(), undefined);
    assert.deepEqual(await flagged(), []);
  });

  it('accounting after the ACK flags the NAS (metric, audit, trust figure) and the disconnect is retried with back-off, a bounded number of times', async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    await accounting('Start', 'fwd-1');
    const id = sessionOf('fwd-1')!.id;
    assert.equal((await enforcer.kick(id)).result.outcome, 'ack');
    assert.equal(fixture.store.db.sessions[id]!.disconnectAcked?.reason, 'staff-kick');

    // A minute later the NAS still reports the session, a minute older.
    fixture.clock.advance(60_000);
    await accounting('Interim-Update', 'fwd-1', 60);
    await waitFor(async () => (await disconnects('fwd-1')).length === 2);
    const [first, retry] = await disconnects('fwd-1');
    assert.equal(retry!.reason, first!.reason, 'the retry repeats why the session is ended');
    assert.equal(retry!.outcome, 'ack');
    assert.match((await counted()) ?? '', / 1$/);
    const [audit] = await flagged();
    assert.equal(audit!.actorId, null, 'the system saw it, no person');
    assert.equal(audit!.actor?.kind, 'system');
    assert.equal(audit!.target, fixture.nasId);
    assert.equal(audit!.details?.acctSessionId, 'fwd-1');
    assert.equal(nasTrustFigures(fixture.store.db, fixture.nasId).acksButKeepsForwarding, 1);

    // The retry was acked too and ignored again: counted again, but the next retry waits its turn.
    fixture.clock.advance(10_000);
    await accounting('Interim-Update', 'fwd-1', 70);
    assert.equal(nasTrustFigures(fixture.store.db, fixture.nasId).acksButKeepsForwarding, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await disconnects('fwd-1')).length, 2, 'no retry before the back-off');

    // Retries come at doubling waits, found by the sweep even without more accounting, until spent.
    let sent = 2;
    for (let retry = 2; retry <= MAX_DISCONNECT_RETRIES; retry++) {
      fixture.clock.advance(RETRY_BACKOFF_MS * 2 ** (retry - 2));
      const swept = await sweepSessions(fixture.store, fixture.clock, 1_000);
      assert.deepEqual(swept.actions, [{ action: 'disconnect', sessionId: id, reason: 'staff-kick' }]);
      await enforcer.apply(swept.actions);
      sent += 1;
      assert.equal((await disconnects('fwd-1')).length, sent);
    }
    fixture.clock.advance(3_600_000);
    await accounting('Interim-Update', 'fwd-1', 4_000);
    assert.deepEqual((await sweepSessions(fixture.store, fixture.clock, 1_000)).actions, [], 'retries are spent');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await disconnects('fwd-1')).length, 1 + MAX_DISCONNECT_RETRIES);
    assert.equal(fixture.store.db.sessions[id]!.ignoredDisconnect?.nextRetryAt, null);

    // When the NAS finally stops the session, it closes like any other.
    await accounting('Stop', 'fwd-1', 4_001);
    assert.equal(sessionOf('fwd-1'), undefined);
  });

  it("keeps each NAS's trust figures: last seen, interim cadence against the configured interval, Message-Authenticator, missing Stops", async (t) => {
    if (!requireSystem(t, { tools: ['radclient', 'freeradius'] })) return;
    await fixture.store.update((db) => {
      db.subscriptions['sub-user']!.endsAt = fixture.clock.now() + 86_400_000;
    });
    await accounting('Start', 'cadence-1');
    const configured = sessionOf('cadence-1')!.interimIntervalSeconds;
    for (const gap of [290, 310, 300]) {
      fixture.clock.advance(gap * 1000);
      await accounting('Interim-Update', 'cadence-1');
    }
    const login = await radclient(
      `127.0.0.1:${server.authPort}`,
      'auth',
      SECRET,
      `User-Name = "guest@example.org"\nUser-Password = "${PASSWORD}"\nMessage-Authenticator = 0x00\n`,
    );
    assert.equal(login.reply, 'Access-Accept', login.output);
    const lastPacketAt = fixture.clock.now();
    await flushNasTrust(fixture.store, fixture.clock, observations);

    // The session's Stop never comes: the stale sweep closes it and counts it against the NAS.
    fixture.clock.advance(3 * configured * 1000 + 1);
    const swept = await sweepSessions(fixture.store, fixture.clock, 3);
    assert.ok(swept.closed.some((closed) => closed.acctSessionId === 'cadence-1' && closed.reason === 'stale'));

    const figures = nasTrustFigures(fixture.store.db, fixture.nasId);
    assert.equal(figures.lastSeenAt, lastPacketAt);
    assert.equal(figures.interim.configuredSeconds, configured);
    assert.ok(figures.interim.samples >= 3);
    assert.ok(figures.messageAuthenticator.sendsOnAccessRequest);
    assert.equal(figures.messageAuthenticator.signedAccessRequests, 1);
    assert.ok(figures.missingStops >= 1);
    assert.equal(figures.acksButKeepsForwarding, 3, 'the ignored disconnects above');
  });
});
