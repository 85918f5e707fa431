import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../shared/logger.js';
import { Code, AcctStatus } from './protocol/constants.js';
import { startRadiusServer } from './server.js';
import { createFixture, SECRET, type Fixture } from './test-fixtures.js';
import { accountingRequest, TestClient } from './test-packets.js';

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n'))
        if (text) lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** Sends `count` Accounting Starts with never-repeating Acct-Session-Ids for the fixture's user. */
async function floodStarts(
  fixture: Fixture,
  count: number,
): Promise<{ acknowledged: number; lines: Array<Record<string, unknown>>; capped: Record<string, number> }> {
  const { logger, lines } = capturingLogger();
  const server = await startRadiusServer({
    config: fixture.config,
    store: fixture.store,
    clock: fixture.clock,
    logger,
    policy: fixture.policy,
  });
  const client = await TestClient.open();
  let acknowledged = 0;
  try {
    for (let i = 0; i < count; i++) {
      const reply = await client.exchange(
        accountingRequest({
          identifier: i % 256,
          secret: Buffer.from(SECRET),
          status: AcctStatus.Start,
          sessionId: `flood-${i}`,
          subscriptionId: 'sub-user',
        }),
        server.acctPort,
        2000,
      );
      if (reply?.[0] === Code.AccountingResponse) acknowledged += 1;
    }
    return { acknowledged, lines, capped: { ...server.stats.sessionsCapped } };
  } finally {
    await client.close();
    await server.close();
  }
}

const liveSessionsOf = (fixture: Fixture, ownerKey: string): string[] =>
  Object.values(fixture.store.db.sessions)
    .filter((session) => session.ownerKey === ownerKey)
    .map((session) => session.acctSessionId ?? '');

describe('live sessions are bounded whatever a NAS reports', () => {
  it('a subscription holds at most its device limit: each Start beyond it closes the oldest, and every request is acknowledged and kept in the history', async () => {
    const fixture = await createFixture({ plan: { maxDevices: 2 } });
    try {
      const { acknowledged, lines, capped } = await floodStarts(fixture, 40);
      assert.equal(acknowledged, 40, 'every Accounting-Request answered');
      assert.deepEqual(liveSessionsOf(fixture, 'user:u1').sort(), ['flood-38', 'flood-39']);
      assert.equal((await fixture.store.history('accounting').readAll()).length, 40, 'one history line per request');
      const closed = await fixture.store.history<{ reason: string }>('closed-sessions').readAll();
      assert.equal(closed.filter((line) => line.reason === 'device-limit').length, 38);
      assert.equal(capped['device-limit'], 38);
      const logged = lines.filter((line) => String(line.msg).startsWith('live session capped'));
      assert.equal(logged.length, 1, 'the log says so once per interval, not once per packet');
      assert.equal(logged[0]!.reason, 'device-limit');
    } finally {
      await fixture.close();
    }
  });

  it('a NAS at its cap opens no more sessions: the guests already on stay, the Starts are acknowledged and counted', async () => {
    const fixture = await createFixture({ plan: { maxDevices: 1000 }, radius: { maxSessionsPerNas: 5 } });
    try {
      const { acknowledged, capped, lines } = await floodStarts(fixture, 12);
      assert.equal(acknowledged, 12);
      assert.deepEqual(liveSessionsOf(fixture, 'user:u1').sort(), [
        'flood-0',
        'flood-1',
        'flood-2',
        'flood-3',
        'flood-4',
      ]);
      assert.equal(capped['nas-limit'], 7);
      assert.equal((await fixture.store.history('accounting').readAll()).length, 12);
      assert.equal(lines.filter((line) => line.reason === 'nas-limit').length, 1);
    } finally {
      await fixture.close();
    }
  });
});
