/**
 * bench:provisioner — AllowClient + RevokeClient round trips over gRPC/mTLS to
 * the provisioner with the nftables driver in a network namespace, against the
 * same nft transactions run directly (`ip netns exec <gw> nft -f -`), in the
 * same run. Then the per-operation latency with 100, 1,000 and 10,000 allowed
 * clients loaded. Target: gRPC path ≤ 2× the direct cost; latency flat in load.
 * Needs root, nft and ip.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../appliance/logger.js';
import {
  initPki,
  loadClientTls,
  loadJwtPublicKey,
  loadJwtSigningKey,
  loadServerTls,
} from '../appliance/pki/pki-store.js';
import { ProvisionerClient } from '../appliance/provisioning/provisioner-client.js';
import { MemoryAccountDriver } from '../provisioner/drivers/memory.js';
import { NetnsLab } from '../provisioner/drivers/nftables/netns-lab.js';
import { NftablesDriver } from '../provisioner/drivers/nftables/nftables-driver.js';
import { TABLE, allowScript, revokeScript } from '../provisioner/drivers/nftables/ruleset.js';
import { startProvisionerServer } from '../provisioner/server/start-server.js';
import { formatRow, summarize, type LatencySummary } from './stats.js';

const OPS = Number(process.env.BENCH_OPS ?? 300);
const LOADS = [100, 1_000, 10_000];
const RATES = { upKbps: 2_000, downKbps: 8_000 };

function ipOf(i: number): string {
  return `10.${100 + Math.floor(i / 65_536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
}

function macOf(i: number): string {
  const hex = i.toString(16).padStart(8, '0');
  return `02:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

function nftScript(ns: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nft exited ${code}`))));
    child.stdin.end(text);
  });
}

async function measure(label: string, ops: number, op: (i: number) => Promise<void>): Promise<LatencySummary> {
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < ops; i++) {
    const t0 = performance.now();
    await op(i);
    latencies.push(performance.now() - t0);
  }
  const summary = summarize(latencies, performance.now() - started);
  console.log(formatRow(label, summary));
  return summary;
}

/** `ops` operations with `width` in flight; one latency sample per operation. */
async function measureConcurrent(
  label: string,
  ops: number,
  width: number,
  op: (i: number) => Promise<void>,
): Promise<LatencySummary> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < ops) {
      const i = next++;
      const t0 = performance.now();
      await op(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  const summary = summarize(latencies, performance.now() - started);
  console.log(formatRow(label, summary));
  return summary;
}

async function main(): Promise<void> {
  const lab = new NetnsLab();
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-prov-'));
  await lab.create({ withClient: false, withInet: false });
  try {
    await initPki({ dir });
    const driver = new NftablesDriver({
      logger: silentLogger,
      commandPrefix: ['ip', 'netns', 'exec', lab.gw],
      lanInterface: lab.lanInterface,
      portalIp: lab.portalIp,
      portalPort: 8081,
    });
    const server = await startProvisionerServer({
      listen: '127.0.0.1:0',
      tls: await loadServerTls(dir),
      jwtPublicKey: await loadJwtPublicKey(join(dir, 'jwt-public.pem')),
      firewall: driver,
      accounts: new MemoryAccountDriver(),
      firewallName: 'nftables',
      accountsName: 'memory',
      logger: silentLogger,
    });
    const client = new ProvisionerClient({
      address: server.address,
      tls: await loadClientTls(dir),
      jwtKey: await loadJwtSigningKey(dir),
      logger: silentLogger,
    });

    const base = 200_000;
    const viaGrpc = async (i: number): Promise<void> => {
      const c = { ip: ipOf(base + i), mac: macOf(base + i), seconds: 600, ...RATES, sessionId: `b${i}` };
      await client.allowClient(c);
      await client.revokeClient({ ip: c.ip, mac: c.mac, sessionId: c.sessionId });
    };
    const direct = async (i: number): Promise<void> => {
      const ip = ipOf(base + i);
      const mac = macOf(base + i);
      await nftScript(
        lab.gw,
        allowScript({ ip, mac, seconds: 600, macSeconds: 600, ...RATES, sessionId: `b${i}`, packets: 0, bytes: 0 }),
      );
      await nftScript(lab.gw, revokeScript(ip, mac));
    };

    console.log(`bench:provisioner — AllowClient+RevokeClient round trips, ${OPS} sequential ops each, nft ${lab.gw}`);
    await measure('warm-up (gRPC)', 20, viaGrpc);
    const d = await measure('direct nft -f (2 execs)', OPS, direct);
    const g = await measure('gRPC/mTLS → nftables', OPS, viaGrpc);
    console.log(
      `ratio gRPC/direct: p50 ${(g.p50 / d.p50).toFixed(2)}×, p99 ${(g.p99 / d.p99).toFixed(2)}×, time per op ${(d.perSecond / g.perSecond).toFixed(2)}× (target ≤ 2×)`,
    );

    const WIDTH = 32;
    console.log(`\n${WIDTH} round trips in flight (the driver joins concurrent changes into one nft transaction)`);
    const dc = await measureConcurrent(`direct nft -f, ${WIDTH} parallel`, OPS * 2, WIDTH, (i) => direct(10_000 + i));
    const gc = await measureConcurrent(`gRPC/mTLS, ${WIDTH} in flight`, OPS * 2, WIDTH, (i) => viaGrpc(10_000 + i));
    console.log(`throughput gRPC/direct: ${(gc.perSecond / dc.perSecond).toFixed(2)}×`);
    console.log(
      '\nper-op latency with allowed clients loaded (each op = AllowClient + RevokeClient of one more client)',
    );
    let loaded = 0;
    for (const load of LOADS) {
      const lines: string[] = [];
      for (let i = loaded; i < load; i++) {
        lines.push(
          `add element ${TABLE} allowed_v4 { ${ipOf(i)} timeout 1h comment "sid=l${i};mac=${macOf(i)};up=0;down=0" }`,
        );
        lines.push(`add element ${TABLE} allowed_mac { ${macOf(i)} timeout 1h }`);
      }
      await nftScript(lab.gw, `${lines.join('\n')}\n`);
      loaded = load;
      const listed = (await client.listClients()).clients.length;
      const gl = await measure(`gRPC, ${load} loaded`, Math.min(OPS, 200), viaGrpc);
      const dl = await measure(`direct, ${load} loaded`, Math.min(OPS, 200), direct);
      console.log(`  ${listed} clients listed; gRPC/direct p50 ${(gl.p50 / dl.p50).toFixed(2)}×`);
    }

    const t0 = performance.now();
    const all = await client.listClients();
    console.log(`\nListClients with ${all.clients.length} entries: ${(performance.now() - t0).toFixed(1)} ms`);
    client.close();
    await server.stop();
  } finally {
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
