import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import { validateConfig } from '../../../appliance/config/load-config.js';
import { emptyDb } from '../../../appliance/store/migrations.js';
import { silentLogger } from '../../../shared/logger.js';
import { initPki } from '../../../appliance/pki/pki-store.js';
import { createProvisioning } from '../../../appliance/provisioning/create-provisioning.js';
import { createProvisionerClient } from '../../../appliance/provisioning/embedded-provisioner.js';
import type { ProvisionerClient } from '../../../appliance/provisioning/provisioner-client.js';
import { hasTool, isRoot, requireSystem } from '../../../appliance/testing/system-tools.js';
import { planRecord } from '../../../appliance/testing/plan-record.js';
import { NftablesDriver } from './nftables-driver.js';
import { NetnsLab } from './netns-lab.js';

const MAIN = fileURLToPath(new URL('../../main.ts', import.meta.url));
const NEEDS = { tools: ['nft', 'ip', 'curl'], root: true };
const available = NEEDS.tools.every(hasTool) && isRoot();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Daemon {
  address: string;
  child: ChildProcess;
}

describe('nftables driver in network namespaces (client — gw — inet), driven over gRPC', () => {
  const lab = new NetnsLab();
  let dir: string;
  let daemon: Daemon | undefined;
  let client: ProvisionerClient | undefined;

  async function startDaemon(): Promise<Daemon> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        '--listen',
        '127.0.0.1:0',
        '--tls-dir',
        join(dir, 'pki'),
        '--driver',
        'nftables',
        '--netns',
        lab.gw,
        '--lan-if',
        lab.lanInterface,
        '--portal-ip',
        lab.portalIp,
        '--portal-ip6',
        lab.portalIp6,
        '--portal-port',
        '8081',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const address = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const parsed = JSON.parse(line) as { listening?: string };
        if (parsed.listening) resolve(parsed.listening);
      });
      child.once('exit', (code) => reject(new Error(`provisioner exited with ${code}`)));
    });
    return { address, child };
  }

  async function stopDaemon(): Promise<void> {
    client?.close();
    client = undefined;
    const d = daemon;
    daemon = undefined;
    if (!d || d.child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      d.child.once('exit', () => resolve());
      d.child.kill('SIGTERM');
    });
  }

  async function connect(): Promise<ProvisionerClient> {
    daemon = await startDaemon();
    client = await createProvisionerClient({ address: daemon.address, tlsDir: join(dir, 'pki'), logger: silentLogger });
    return client;
  }

  const allow = (
    c: ProvisionerClient,
    seconds: number,
    extra: { upKbps?: number; downKbps?: number } = {},
  ): Promise<void> =>
    c.allowClient({
      ip: lab.clientIp,
      mac: lab.clientMac,
      seconds,
      upKbps: extra.upKbps ?? 0,
      downKbps: extra.downKbps ?? 0,
      sessionId: 'sess-1',
    });

  before(async () => {
    if (!available) return;
    dir = await mkdtemp(join(tmpdir(), 'tp-nft-'));
    await initPki({ dir: join(dir, 'pki') });
    await lab.create();
    await lab.serve(lab.gw, 'portal', lab.portalIp, [8081]);
    await lab.serve(lab.gw, 'portal', lab.portalIp6, [8081]);
    await lab.serve(lab.inet, 'internet', '::', [80, 443, 8080], 1_500_000);
    await connect();
  });

  after(async () => {
    if (!available) return;
    await stopDaemon();
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  function need(t: TestContext): boolean {
    return requireSystem(t, NEEDS);
  }

  /** The client's entry once its counters show more than `packets` packets: they arrive with a kernel read, within about the list window. */
  async function counted(
    packets: number,
    ip = lab.clientIp,
  ): Promise<{ sessionId: string; packets: number; bytes: number } | undefined> {
    const deadline = Date.now() + 4_000;
    for (;;) {
      const entry = (await client!.listClients()).clients.find((c) => c.ip === ip);
      if ((entry && entry.packets > packets) || Date.now() > deadline) return entry;
      await sleep(100);
    }
  }

  it('before login: HTTP lands on the portal, HTTPS is reset at once, other traffic is dropped', async (t) => {
    if (!need(t)) return;
    const http = await lab.curl(`http://${lab.inetIp}/`);
    assert.equal(http.body, `portal ${lab.portalIp}`);
    const https = await lab.curl(`http://${lab.inetIp}:443/`, 3);
    assert.equal(https.code, 7, 'connection reset');
    assert.ok(https.ms < 1000, `refused fast (${https.ms.toFixed(0)} ms)`);
    const other = await lab.curl(`http://${lab.inetIp}:8080/`, 1);
    assert.equal(other.code, 28, 'dropped: times out');
  });

  it('a walled-garden address is reachable before login', async (t) => {
    if (!need(t)) return;
    assert.equal((await lab.curl(`http://${lab.gardenIp}:8080/`)).code, 28);
    await client!.setWalledGarden({ domains: [], cidrs: [lab.gardenIp] });
    assert.equal((await lab.curl(`http://${lab.gardenIp}:8080/`)).body, `internet ${lab.gardenIp}`);
    assert.equal((await lab.curl(`http://${lab.inetIp}:8080/`)).code, 28, 'the rest stays closed');
    await client!.setWalledGarden({ domains: [], cidrs: [] });
    assert.equal((await lab.curl(`http://${lab.gardenIp}:8080/`)).code, 28, 'and closes again when removed');
  });

  it('after AllowClient the client reaches inet and its counters grow; at the timeout it is blocked again', async (t) => {
    if (!need(t)) return;
    await allow(client!, 3);
    assert.equal((await lab.curl(`http://${lab.inetIp}/`)).body, `internet ${lab.inetIp}`);
    assert.equal((await lab.curl(`http://${lab.inetIp}:8080/`)).body, `internet ${lab.inetIp}`);
    const entry = await counted(5);
    assert.equal(entry?.sessionId, 'sess-1');
    assert.ok((entry?.packets ?? 0) > 5, `packets ${entry?.packets}`);
    assert.ok((entry?.bytes ?? 0) > 300, `bytes ${entry?.bytes}`);
    await sleep(3300);
    assert.deepEqual((await client!.listClients()).clients, [], 'the element lapsed in the kernel');
    assert.equal((await lab.curl(`http://${lab.inetIp}/`)).body, `portal ${lab.portalIp}`);
    assert.equal((await lab.curl(`http://${lab.inetIp}:8080/`)).code, 28);
  });

  it('allowing twice keeps one entry (counters carried over); RevokeClient blocks at once; revoking again succeeds', async (t) => {
    if (!need(t)) return;
    await allow(client!, 60);
    await lab.curl(`http://${lab.inetIp}:8080/`);
    const before = (await counted(0))?.bytes ?? 0;
    await allow(client!, 120);
    const { clients } = await client!.listClients();
    assert.equal(clients.length, 1);
    assert.ok((clients[0]?.remainingSeconds ?? 0) > 100);
    assert.ok((clients[0]?.bytes ?? 0) >= before && before > 0, 'counters survive a refresh');
    await client!.revokeClient({ ip: lab.clientIp, mac: lab.clientMac, sessionId: 'sess-1' });
    assert.equal((await lab.curl(`http://${lab.inetIp}:8080/`)).code, 28);
    assert.equal((await lab.curl(`http://${lab.inetIp}/`)).body, `portal ${lab.portalIp}`);
    await client!.revokeClient({ ip: lab.clientIp, mac: lab.clientMac, sessionId: 'sess-1' });
    const set = (await lab.nft('list', 'set', 'inet', 'turnpike', 'allowed_mac')).stdout;
    assert.doesNotMatch(set, /02:00:00:00:77:02/, 'the MAC left the set too');
  });

  it('enforces a per-client download rate', async (t) => {
    if (!need(t)) return;
    await allow(client!, 60);
    const fast = await lab.curl(`http://${lab.inetIp}:8080/blob`, 10);
    await allow(client!, 60, { downKbps: 4000 });
    const slow = await lab.curl(`http://${lab.inetIp}:8080/blob`, 10);
    assert.equal(fast.body.length, 1_500_000);
    assert.equal(slow.body.length, 1_500_000, 'the limited download completes');
    // 4000 kbit/s = 500 kB/s; the bucket starts with 1.25 s of traffic, the rest is paced: ≈ 1.75 s.
    const floorMs = ((1_500_000 - 1.25 * 500_000) / 500_000) * 1000 * 0.8;
    assert.ok(slow.ms > floorMs, `limited download took ${slow.ms.toFixed(0)} ms (unlimited ${fast.ms.toFixed(0)} ms)`);
    assert.ok(slow.ms > fast.ms * 3);
    t.diagnostic(`1.5 MB: unlimited ${fast.ms.toFixed(0)} ms, at 4000 kbit/s ${slow.ms.toFixed(0)} ms`);
    await client!.revokeClient({ ip: lab.clientIp, mac: lab.clientMac, sessionId: 'sess-1' });
  });

  it('enforces a per-client upload rate', async (t) => {
    if (!need(t)) return;
    const file = join(dir, 'upload.bin');
    await writeFile(file, Buffer.alloc(1_500_000, 121));
    await allow(client!, 60);
    const fast = await lab.curl(`http://${lab.inetIp}:8080/upload`, 10, file);
    await allow(client!, 60, { upKbps: 4000 });
    const slow = await lab.curl(`http://${lab.inetIp}:8080/upload`, 10, file);
    assert.equal(fast.body, '1500000');
    assert.equal(slow.body, '1500000', 'the limited upload completes');
    const floorMs = ((1_500_000 - 1.25 * 500_000) / 500_000) * 1000 * 0.8;
    assert.ok(slow.ms > floorMs, `limited upload took ${slow.ms.toFixed(0)} ms (unlimited ${fast.ms.toFixed(0)} ms)`);
    t.diagnostic(`1.5 MB up: unlimited ${fast.ms.toFixed(0)} ms, at 4000 kbit/s ${slow.ms.toFixed(0)} ms`);
    await client!.revokeClient({ ip: lab.clientIp, mac: lab.clientMac, sessionId: 'sess-1' });
  });

  it('after a provisioner restart the rules are still there, and reconciliation removes an orphan', async (t) => {
    if (!need(t)) return;
    await allow(client!, 600);
    await stopDaemon();
    assert.equal(
      (await lab.curl(`http://${lab.inetIp}:8080/`)).body,
      `internet ${lab.inetIp}`,
      'still allowed with the daemon down',
    );
    await lab.nft('add', 'element', 'inet', 'turnpike', 'allowed_v4', '{ 10.77.0.99 timeout 1h }');
    const c = await connect();
    const ips = (await c.listClients()).clients.map((x) => x.ip).sort();
    assert.deepEqual(ips, ['10.77.0.2', '10.77.0.99'], 'adopted the table as found');
    assert.equal((await lab.curl(`http://${lab.inetIp}:8080/`)).body, `internet ${lab.inetIp}`);

    const db = emptyDb();
    db.plans.p = planRecord({ id: 'p' });
    db.subscriptions.s = {
      id: 's',
      userId: null,
      voucherCode: 'V1',
      planId: 'p',
      source: 'voucher',
      sourceRef: null,
      status: 'active',
      startedAt: Date.now(),
      endsAt: Date.now() + 600_000,
      bytesUsed: 0,
      cancelAtPeriodEnd: false,
      createdAt: 0,
      updatedAt: 0,
    };
    db.sessions['sess-1'] = {
      id: 'sess-1',
      subscriptionId: 's',
      ownerKey: 'voucher:V1',
      nasId: null,
      acctSessionId: null,
      mode: 'gateway',
      mac: lab.clientMac,
      ip: lab.clientIp,
      startedAt: Date.now(),
      lastUpdateAt: Date.now(),
      interimIntervalSeconds: 300,
      inputOctets: 0,
      outputOctets: 0,
      chargedOctets: 0,
      disconnectPendingSince: null,
    };
    const provisioning = await createProvisioning({
      config: validateConfig({ dataDir: dir, provisioner: { tlsDir: join(dir, 'pki') } }, 'test'),
      store: { db },
      logger: silentLogger,
      extraTargets: [{ site: 'gw', address: daemon!.address }],
    });
    const [report] = await provisioning.reconciler.reconcileOnce();
    await provisioning.stop();
    assert.equal(report?.revoked, 1, 'the orphan');
    assert.deepEqual(
      (await c.listClients()).clients.map((x) => x.ip),
      ['10.77.0.2'],
    );
    assert.equal(
      (await lab.curl(`http://${lab.inetIp}:8080/`)).body,
      `internet ${lab.inetIp}`,
      'the real guest kept access',
    );
  });

  it('IPv6 guests: HTTP goes to the IPv6 portal before login, through to inet after AllowClient, blocked after revoke', async (t) => {
    if (!need(t)) return;
    assert.equal((await lab.curl(`http://[${lab.inetIp6}]/`)).body, `portal ${lab.portalIp6}`);
    assert.equal((await lab.curl(`http://[${lab.inetIp6}]:8080/`)).code, 28);
    const guest6 = { ip: lab.clientIp6, mac: lab.clientMac, sessionId: 'sess-6' };
    await client!.allowClient({ ...guest6, seconds: 60, upKbps: 0, downKbps: 0 });
    assert.equal((await lab.curl(`http://[${lab.inetIp6}]:8080/`)).body, `internet ${lab.inetIp6}`);
    const entry = await counted(0, lab.clientIp6);
    assert.ok((entry?.bytes ?? 0) > 0, 'IPv6 counters grow');
    await client!.revokeClient(guest6);
    assert.equal((await lab.curl(`http://[${lab.inetIp6}]:8080/`)).code, 28);
    const macs = (await lab.nft('list', 'set', 'inet', 'turnpike', 'allowed_mac')).stdout;
    assert.match(macs, /02:00:00:00:77:02/, 'the MAC stays while the IPv4 entry of the same device is live');
  });

  it('joins concurrent changes into few transactions, and a bad change in a batch fails alone', async (t) => {
    if (!need(t)) return;
    const driver = new NftablesDriver({
      logger: silentLogger,
      commandPrefix: ['ip', 'netns', 'exec', lab.gw],
      lanInterface: lab.lanInterface,
      portalIp: lab.portalIp,
      portalPort: 8081,
    });
    await driver.start();
    const rule = (i: number) => ({
      ip: `10.66.0.${i}`,
      mac: `02:00:00:00:66:${i.toString(16).padStart(2, '0')}`,
      seconds: 60,
      upKbps: i % 2 === 0 ? 1000 : 0,
      downKbps: 0,
      sessionId: `c${i}`,
    });
    // 10.66.0.300 stands for a value only the host refuses (validation normally stops it).
    const results = await Promise.allSettled([
      ...Array.from({ length: 60 }, (_, i) => driver.allow(rule(i + 1))),
      driver.allow(rule(300)),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 60);
    const refused = results.at(-1);
    assert.equal(refused?.status, 'rejected');
    const reason = (refused as PromiseRejectedResult).reason as { code?: string; message?: string };
    assert.equal(reason.code, 'TP_ERR_VALIDATION');
    assert.match(reason.message ?? '', /^nft refused client 10\.66\.0\.300 \(MAC 02:00:00:00:66:12c, session c300\)/);
    assert.match(reason.message ?? '', /\(at .*"10\.66\.0\.300"/, 'and points at the value nft could not take');
    const ips = new Set((await driver.list()).map((c) => c.ip));
    for (let i = 1; i <= 60; i++) assert.ok(ips.has(`10.66.0.${i}`), `10.66.0.${i}`);
    await Promise.all(Array.from({ length: 60 }, (_, i) => driver.revoke({ ...rule(i + 1) })));
    assert.ok(!(await driver.list()).some((c) => c.ip.startsWith('10.66.')));
    const limits = (await lab.nft('list', 'limits', 'table', 'inet', 'turnpike')).stdout;
    assert.doesNotMatch(limits, /up_10_66_/, 'no limit object left behind');
    await driver.close();
  });

  it('lists from its own view: its changes at once (even those made during a read), others once a read past the window has landed', async (t) => {
    if (!need(t)) return;
    const clock = new ManualClock(Date.now());
    const driver = new NftablesDriver({
      logger: silentLogger,
      commandPrefix: ['ip', 'netns', 'exec', lab.gw],
      lanInterface: lab.lanInterface,
      portalIp: lab.portalIp,
      portalPort: 8081,
      listMaxAgeMs: 10_000,
      listStaleMs: 20_000,
      clock,
    });
    await driver.start();
    const guest = (i: number, seconds = 600) => ({
      ip: `10.55.0.${i}`,
      mac: `02:00:00:00:55:0${i}`,
      seconds,
      upKbps: 0,
      downKbps: 0,
      sessionId: `w${i}`,
    });
    const ips = async (): Promise<string[]> =>
      (await driver.list())
        .map((c) => c.ip)
        .filter((ip) => ip.startsWith('10.55.'))
        .sort();
    await driver.allow(guest(1));
    assert.deepEqual(await ips(), ['10.55.0.1'], 'its own change, without a read');
    await lab.nft('add', 'element', 'inet', 'turnpike', 'allowed_v4', '{ 10.55.0.9 timeout 1h }');
    assert.deepEqual(await ips(), ['10.55.0.1'], 'someone else’s element waits for the next read');
    // Allowing an address the driver believes free, which the kernel already holds, replaces the element.
    await driver.allow(guest(8));
    await lab.nft('add', 'element', 'inet', 'turnpike', 'allowed_v4', '{ 10.55.0.7 timeout 1h comment "sid=old" }');
    await driver.allow(guest(7));
    const held = (await lab.nft('list', 'set', 'inet', 'turnpike', 'allowed_v4')).stdout;
    assert.match(held, /10\.55\.0\.7 counter packets \d+ bytes \d+ timeout 10m expires \S+ comment "sid=w7;/);
    for (const i of [7, 8]) await driver.revoke(guest(i));
    clock.advance(10_001);
    assert.deepEqual(await ips(), ['10.55.0.1'], 'past the window the view answers at once; a read starts behind it');
    const deadline = Date.now() + 5_000;
    while (!(await ips()).includes('10.55.0.9') && Date.now() < deadline) await sleep(20);
    assert.deepEqual(await ips(), ['10.55.0.1', '10.55.0.9'], 'the next list has what the read found');
    clock.advance(20_001);
    // Past the stale bound the list waits for its read. The read starts first, the allow commits while it is
    // under way; the read must not undo it.
    await lab.nft('add', 'element', 'inet', 'turnpike', 'allowed_v4', '{ 10.55.0.10 timeout 1h }');
    const [read] = await Promise.all([ips(), driver.allow(guest(2, 5))]);
    assert.ok(read.includes('10.55.0.10'));
    assert.ok(read.includes('10.55.0.9'));
    assert.deepEqual(await ips(), ['10.55.0.1', '10.55.0.10', '10.55.0.2', '10.55.0.9']);
    await driver.revoke({ ...guest(1) });
    assert.deepEqual(await ips(), ['10.55.0.10', '10.55.0.2', '10.55.0.9'], 'a revoke leaves the view at once');
    clock.advance(6_000);
    assert.deepEqual(await ips(), ['10.55.0.10', '10.55.0.9'], 'an entry past its time is not listed');
    for (const ip of ['10.55.0.2', '10.55.0.9', '10.55.0.10']) await driver.revoke({ ip, mac: '', sessionId: '' });
    await driver.close();
  });

  it('resolves walled-garden domains into a set and reads the garden back after a restart', async (t) => {
    if (!need(t)) return;
    const options = {
      logger: silentLogger,
      commandPrefix: ['ip', 'netns', 'exec', lab.gw],
      lanInterface: lab.lanInterface,
      portalIp: lab.portalIp,
      portalPort: 8081,
      resolve: async (domain: string) => (domain === 'pay.example.com' ? [lab.gardenIp] : []),
    };
    const driver = new NftablesDriver(options);
    await driver.start();
    await driver.setWalledGarden({ domains: ['pay.example.com'], cidrs: ['192.0.2.0/24', '192.0.2.9'] });
    assert.equal((await lab.curl(`http://${lab.gardenIp}:8080/`)).body, `internet ${lab.gardenIp}`);
    await driver.close();
    const restarted = new NftablesDriver(options);
    await restarted.start();
    assert.deepEqual((await restarted.state()).walledGarden, { domains: ['pay.example.com'], cidrs: ['192.0.2.0/24'] });
    await restarted.setWalledGarden({ domains: [], cidrs: [] });
    await restarted.close();
  });
});
