import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { attributeOf, radclient } from '../radius/radclient-driver.js';
import { systemClock } from '../shared/clock.js';
import { addNasClient } from './nas/nas-clients.js';
import { openConfiguredStore } from './open-store.js';
import { createPlan } from './plans/plans.js';
import type { Store } from './store/store.js';
import { spawnAppliance, type ApplianceProcess } from './testing/appliance-process.js';
import { requirePostgres, startPostgres, type PostgresServer } from './testing/postgres-server.js';
import { requireSystem } from './testing/system-tools.js';
import { TwoBoxLoad } from './testing/two-box-load.js';
import { createVoucherBatch } from './vouchers/batches.js';

const MA = 'Message-Authenticator = 0x00\n';
/** Lets rejects come back inside radclient's one-second wait. */
const BOX_CONFIG = { radius: { rejectDelayMs: 100 } };

interface World {
  pg: PostgresServer;
  dir: string;
  url: string;
  nasSecret: string;
  boxes: { a: ApplianceProcess; b: ApplianceProcess };
  /** Another appliance process on the same database, stopped when the test ends. */
  spawn(name: string): Promise<ApplianceProcess>;
}

/** A store of the test's own on the world's database: a third view, for setting up and checking. */
function viewOf(world: Pick<World, 'dir' | 'url'>): Promise<Store> {
  const store = { driver: 'postgres' as const, postgres: { url: world.url } };
  return openConfiguredStore({ dataDir: join(world.dir, 'view'), store });
}

function auth(box: ApplianceProcess, secret: string, user: string, mac: string) {
  return radclient(
    box.authTarget,
    'auth',
    secret,
    `User-Name = "${user}"\nUser-Password = "${user}"\nCalling-Station-Id = "${mac}"\n${MA}`,
  );
}

async function voucherOn(
  store: Store,
  planName: string,
  plan: Omit<Parameters<typeof createPlan>[2], 'name'>,
): Promise<string> {
  const created = await createPlan(store, systemClock, { ...plan, name: planName });
  const { codes } = await createVoucherBatch(store, systemClock, { planId: created.id, count: 1, createdBy: 'test' });
  return codes[0]!;
}

async function until<T>(probe: () => Promise<T | null>, withinMs: number, what: string): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await sleep(20);
  }
}

/** Every write a load had acknowledged must be in the database: accounting lines and users. */
async function assertNothingAcknowledgedLost(
  world: World,
  load: TwoBoxLoad,
): Promise<{ radius: number; http: number }> {
  const view = await viewOf(world);
  try {
    const lines = await view.history<{ acctSessionId: string | null }>('accounting').readAll();
    const journaled = new Set(lines.map((line) => line.acctSessionId));
    const acked = load.radius.filter((record) => record.reply === 'Accounting-Response');
    const lost = acked.filter((record) => !journaled.has(record.acctSessionId));
    assert.deepEqual(lost, [], `${lost.length} acknowledged Accounting-Requests are not in the accounting history`);
    const emails = new Set(Object.values(view.db.users).map((user) => user.email));
    const signedUp = load.http.filter((record) => record.status === 202);
    const lostUsers = signedUp.filter((record) => !emails.has(record.email));
    assert.deepEqual(lostUsers, [], `${lostUsers.length} acknowledged sign-ups are not in the store`);
    return { radius: acked.length, http: signedUp.length };
  } finally {
    await view.close();
  }
}

function summary(load: TwoBoxLoad, box: string, from: number, to: number): string {
  const radius = load.radius.filter((r) => r.box === box && r.sentAt >= from && r.sentAt < to);
  const http = load.http.filter((r) => r.box === box && r.sentAt >= from && r.sentAt < to);
  const statuses = new Map<string, number>();
  for (const r of http) statuses.set(String(r.status), (statuses.get(String(r.status)) ?? 0) + 1);
  return (
    `${box}: RADIUS ${radius.filter((r) => r.reply).length}/${radius.length} answered, ` +
    `HTTP ${[...statuses].map(([status, count]) => `${status}×${count}`).join(' ') || 'none'}`
  );
}

async function startWorld(t: TestContext): Promise<World> {
  // Every port is the kernel's choice (read back from each start banner), so runs can overlap.
  const pg = await startPostgres({ prefix: 'h10multi-pg-' });
  const dir = await mkdtemp('/tmp/h10multi-boxes-');
  const started: ApplianceProcess[] = [];
  t.after(async () => {
    await Promise.all(started.map((box) => box.stop()));
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const setup = await viewOf({ dir, url: pg.url });
  const nas = await addNasClient(setup, systemClock, { name: 'nas-1', source: '127.0.0.1', dialect: 'generic' });
  await setup.close();
  const spawn = async (name: string): Promise<ApplianceProcess> => {
    const box = await spawnAppliance({ name, dir, postgresUrl: pg.url, config: BOX_CONFIG });
    started.push(box);
    return box;
  };
  const [a, b] = await Promise.all([spawn('a'), spawn('b')]);
  return { pg, dir, url: pg.url, nasSecret: nas.secret, boxes: { a, b }, spawn };
}

test('two appliances on one PostgreSQL', { timeout: 600_000 }, async (t) => {
  if (!requirePostgres(t) || !requireSystem(t, { tools: ['radclient'] })) return;
  const world = await startWorld(t);
  const { a, b } = world.boxes;
  const secret = world.nasSecret;

  await t.test('the same voucher redeemed through both at once (100 attempts) is granted exactly once', async () => {
    const store = await viewOf(world);
    const code = await voucherOn(store, 'One device, one day', { durationSeconds: 86_400, maxDevices: 1 });
    const attempts = Array.from({ length: 100 }, (_, i) => {
      const mac = `02-00-00-01-${(i >> 8).toString(16).padStart(2, '0')}-${(i & 255).toString(16).padStart(2, '0')}`;
      return auth(i % 2 === 0 ? a : b, secret, code, mac);
    });
    const replies = (await Promise.all(attempts)).map((result) => result.reply ?? 'no answer');
    const counts = Object.fromEntries(
      [...new Set(replies)].map((reply) => [reply, replies.filter((r) => r === reply).length]),
    );
    t.diagnostic(`voucher race: ${JSON.stringify(counts)}`);
    assert.equal(counts['Access-Accept'], 1, JSON.stringify(counts));
    await sleep(200);
    const fresh = await viewOf(world);
    assert.equal(fresh.db.vouchers[code]?.uses, 1);
    assert.equal(Object.values(fresh.db.subscriptions).filter((s) => s.voucherCode === code).length, 1);
    await fresh.close();
    await store.close();
  });

  await t.test('accounting through B counts against the quota that A enforces', async () => {
    const store = await viewOf(world);
    const code = await voucherOn(store, 'One megabyte', { durationSeconds: 86_400, quotaBytes: 1_000_000 });
    await store.close();
    const mac = '02-00-00-02-00-01';
    const accepted = await auth(a, secret, code, mac);
    assert.equal(accepted.reply, 'Access-Accept');
    const classHex = attributeOf(accepted, 'Class')!;
    const common = `Acct-Session-Id = "quota-1"\nClass = ${classHex}\nCalling-Station-Id = "${mac}"\n`;
    assert.equal(
      (await radclient(b.acctTarget, 'acct', secret, `Acct-Status-Type = Start\n${common}`)).reply,
      'Accounting-Response',
    );
    const spent = `Acct-Status-Type = Interim-Update\n${common}Acct-Input-Octets = 600000\nAcct-Output-Octets = 600000\nAcct-Session-Time = 60\n`;
    assert.equal((await radclient(b.acctTarget, 'acct', secret, spent)).reply, 'Accounting-Response');
    const acknowledgedAt = Date.now();
    const refused = await until(
      async () => {
        const result = await auth(a, secret, code, mac);
        return result.reply === 'Access-Reject' ? result : null;
      },
      3_000,
      'A refuses the spent voucher',
    );
    t.diagnostic(`quota: A refused ${Date.now() - acknowledgedAt} ms after B acknowledged the usage`);
    assert.match(attributeOf(refused, 'Reply-Message') ?? '', /data|allowance|quota/i);
  });

  await t.test('a refresh family revoked on A is refused on B within 1 s', async () => {
    const email = 'revoked@example.test';
    const password = 'two boxes share one database 7';
    const post = (box: ApplianceProcess, path: string, body: unknown, token?: string) =>
      fetch(`${box.portalUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    assert.equal((await post(a, '/api/v1/auth/register', { email, password })).status, 202);
    const login = await post(a, '/api/v1/auth/login', { email, password });
    assert.equal(login.status, 200);
    const { tokens } = (await login.json()) as { tokens: { accessToken: string; refreshToken: string } };
    const me = (box: ApplianceProcess) =>
      fetch(`${box.portalUrl}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    await until(async () => ((await me(b)).status === 200 ? true : null), 2_000, 'B knows the session');

    assert.equal(
      (await post(a, '/api/v1/auth/logout', { refreshToken: tokens.refreshToken }, tokens.accessToken)).status,
      200,
    );
    const revokedAt = Date.now();
    await until(async () => ((await me(b)).status === 401 ? true : null), 1_000, 'B refuses the revoked session');
    t.diagnostic(`revocation: B refused the access token ${Date.now() - revokedAt} ms after A acknowledged the logout`);
    assert.equal((await post(b, '/api/v1/auth/refresh', { refreshToken: tokens.refreshToken })).status, 401);
  });

  // The sessions of both loads run under one voucher subscription with room for many devices.
  const store = await viewOf(world);
  const loadCode = await voucherOn(store, 'Load', { durationSeconds: 86_400, maxDevices: 1000 });
  // The loads may fill the Load voucher's device limit; a returning box is checked on a code of its own.
  const comebackCode = await voucherOn(store, 'Comeback', { durationSeconds: 86_400, maxDevices: 1 });
  await store.close();
  const loadAccept = await auth(a, secret, loadCode, '02-00-00-03-00-01');
  assert.equal(loadAccept.reply, 'Access-Accept');
  const classHex = attributeOf(loadAccept, 'Class')!;

  await t.test(
    'PostgreSQL restarted under load: both reconnect, requests in flight fail cleanly, nothing acknowledged is lost',
    async () => {
      const load = new TwoBoxLoad({ boxes: [a, b], nasSecret: secret, classHex, label: 'pgrestart' });
      load.start();
      await sleep(3_000);
      const downAt = Date.now();
      await world.pg.restart({ downMs: 3_000 });
      const upAt = Date.now();
      await sleep(8_000);
      await load.stop();

      for (const box of [a, b]) {
        t.diagnostic(`pg restart (down ${upAt - downAt} ms): before ${summary(load, box.name, 0, downAt)}`);
        t.diagnostic(
          `  during ${summary(load, box.name, downAt, upAt)}; after ${summary(load, box.name, upAt, Infinity)}`,
        );
        const recovered = (kind: 'radius' | 'http'): number => {
          const ok =
            kind === 'radius'
              ? load.radius.filter((r) => r.box === box.name && r.sentAt > upAt && r.reply !== null)
              : load.http.filter((r) => r.box === box.name && r.sentAt > upAt && r.status === 202);
          assert.ok(ok.length > 0, `${box.name} never answered ${kind} after the restart`);
          return Math.min(...ok.map((r) => r.doneAt)) - upAt;
        };
        t.diagnostic(
          `  ${box.name} answered again: RADIUS ${recovered('radius')} ms, HTTP ${recovered('http')} ms after PostgreSQL was up`,
        );
        for (const record of load.radius.filter((r) => r.box === box.name)) {
          assert.ok(record.reply === null || record.reply === 'Accounting-Response', `RADIUS answered ${record.reply}`);
        }
        for (const record of load.http.filter((r) => r.box === box.name && r.status !== 202)) {
          assert.equal(record.status, 503, `HTTP answered ${record.status} during the outage`);
          assert.ok(record.retryAfter !== null && Number(record.retryAfter) > 0, '503 carries Retry-After');
        }
      }
      assert.ok(
        load.radius.some((r) => r.sentAt >= downAt && r.sentAt < upAt && r.reply === null),
        'outage seen on RADIUS',
      );
      assert.ok(
        load.http.some((r) => r.sentAt >= downAt && r.sentAt < upAt && r.status === 503),
        'outage seen on HTTP',
      );
      const kept = await assertNothingAcknowledgedLost(world, load);
      t.diagnostic(
        `pg restart: all ${kept.radius} acknowledged Accounting-Requests and ${kept.http} sign-ups are stored`,
      );
    },
  );

  await t.test(
    'SIGKILL of A under load: B keeps answering RADIUS and HTTP, A’s jobs move to B, nothing acknowledged is lost',
    async () => {
      const holderOf = (box: ApplianceProcess): string | undefined =>
        box.logs().find((line) => line.msg === 'now leading job')?.holder as string | undefined;
      const load = new TwoBoxLoad({ boxes: [a, b], nasSecret: secret, classHex, label: 'sigkill' });
      load.start();
      await sleep(3_000);
      const killedAt = Date.now();
      a.kill('SIGKILL');
      await a.exited;
      await sleep(5_000);
      const view = await viewOf(world);
      const jobsMovedAfter = await until(
        async () => {
          const leases = Object.values(view.db.leases).filter((lease) => lease.name.startsWith('job:'));
          return leases.length > 0 &&
            leases.every((lease) => lease.holder !== holderOf(a) && lease.expiresAt > Date.now())
            ? Date.now() - killedAt
            : null;
        },
        25_000,
        'B leads every job',
      );
      await view.close();
      await load.stop();

      t.diagnostic(`sigkill: before ${summary(load, 'a', 0, killedAt)}; ${summary(load, 'b', 0, killedAt)}`);
      t.diagnostic(`  after ${summary(load, 'a', killedAt, Infinity)}; ${summary(load, 'b', killedAt, Infinity)}`);
      const silence = load.longestSilence('b', killedAt - 1_000, killedAt + 5_000);
      t.diagnostic(
        `  B's longest silence around the kill: ${silence} ms; every job led by B ${jobsMovedAfter} ms after the kill`,
      );
      const afterKill = (r: { box: string; sentAt: number }) => r.box === 'b' && r.sentAt > killedAt;
      assert.deepEqual(
        load.radius.filter(afterKill).filter((r) => r.reply !== 'Accounting-Response'),
        [],
      );
      assert.deepEqual(
        load.http.filter(afterKill).filter((r) => r.status !== 202),
        [],
      );
      assert.ok(load.radius.filter(afterKill).length > 10, 'B was under load after the kill');
      const kept = await assertNothingAcknowledgedLost(world, load);
      t.diagnostic(`sigkill: all ${kept.radius} acknowledged Accounting-Requests and ${kept.http} sign-ups are stored`);

      // A comes back as a new process and serves from the same database at once.
      world.boxes.a = await world.spawn('a2');
      assert.equal((await auth(world.boxes.a, secret, comebackCode, '02-00-00-04-00-01')).reply, 'Access-Accept');
    },
  );
});
