/**
 * bench:portal — the landing page (rendered from templates, with a plan list,
 * per request) against a static file of the same size served by the same
 * fastify server, in the same run. A keep-alive load generator in a child
 * process holds CONNECTIONS requests in flight for DURATION_MS each.
 * Prints requests/s, p50 and p99 of both, the ratio per round, their median and
 * spread, and the load average. Target: ≥ 0.9. Beside it, the portal's CPU time
 * per request of each and their ratio, which waiting for a core does not skew.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../shared/clock.js';
import { loadConfig } from '../appliance/config/load-config.js';
import { silentLogger } from '../shared/logger.js';
import { createMetrics } from '../appliance/metrics.js';
import { seedDemoCatalogue } from '../appliance/plans/demo-catalogue.js';
import { createPlan } from '../appliance/plans/plans.js';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import { PageRenderer } from '../portal/pages/renderer.js';
import { buildPortal } from '../portal/portal.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const WARMUP_MS = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Runs in a child process (so that this process's CPU time is the server's alone): keep-alive
 * GETs, CONNECTIONS in flight, returns throughput and latencies.
 */
const LOAD_GENERATOR = `
const net = require('node:net');
process.once('message', ({ url, connections, durationMs, cookie }) => {
const target = new URL(url);
// Raw keep-alive HTTP/1.1: the node http client would cost more CPU than the server under test.
const request = Buffer.from('GET ' + target.pathname + ' HTTP/1.1\\r\\nHost: ' + target.host + '\\r\\nAccept-Language: en\\r\\nCookie: ' + cookie + '\\r\\n\\r\\n');
function connection(deadline, latencies) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(target.port), target.hostname);
    socket.setNoDelay(true);
    let buffered = Buffer.alloc(0);
    let started = 0n;
    const send = () => {
      if (Date.now() >= deadline) { socket.end(); resolve(); return; }
      started = process.hrtime.bigint();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const end = buffered.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 200')) { reject(new Error(head.split('\\r\\n')[0])); socket.destroy(); return; }
      const length = Number(/content-length: (\\d+)/i.exec(head)[1]);
      if (buffered.length < end + 4 + length) return;
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      buffered = buffered.subarray(end + 4 + length);
      send();
    });
  });
}
(async () => {
  const latencies = [];
  const started = Date.now();
  const deadline = started + durationMs;
  await Promise.all(Array.from({ length: connections }, () => connection(deadline, latencies)));
  process.send({ count: latencies.length, seconds: (Date.now() - started) / 1000, latencies });
})().catch((err) => process.send({ error: String(err) }));
});
`;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  /** CPU time of this process (the portal) per request answered. */
  cpuMicros: number;
}

function load(url: string, durationMs: number, cookie: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOAD_GENERATOR], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let cpu: NodeJS.CpuUsage | undefined;
    child.once('spawn', () => {
      cpu = process.cpuUsage();
      child.send({ url, connections: CONNECTIONS, durationMs, cookie });
    });
    child.once('message', (message: { error?: string; count: number; seconds: number; latencies: number[] }) => {
      const used = process.cpuUsage(cpu);
      child.kill();
      if (message.error) return reject(new Error(message.error));
      const sorted = message.latencies.sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      resolve({
        rps: message.count / message.seconds,
        p50: at(0.5),
        p99: at(0.99),
        cpuMicros: (used.user + used.system) / message.count,
      });
    });
    child.once('error', reject);
  });
}

/** Cost of one uncached render of the same page, straight through the compiled templates. */
function renderMicros(page: string): number {
  const renderer = new PageRenderer();
  const plans = (page.match(/class="card plan"/g) ?? []).map((_, i) => ({
    id: `plan-${i}`,
    name: `Plan ${i}`,
    description: 'A plan',
    price: '€2.00',
    duration: '1 h',
    data: 'unlimited',
    devices: 'up to 2 devices',
    free: i === 0,
  }));
  const frame = {
    lang: 'en' as const,
    title: 'Plans',
    venue: 'Venue',
    primary: '#0b5cad',
    accent: '#f2a900',
    logoUrl: null,
    signedIn: false,
    csrf: 'token',
    support: 'Help',
  };
  const data = { nas: '', welcome: 'Welcome', terms: 'Terms', plans, active: null, error: null };
  const runs = 5_000;
  const started = performance.now();
  for (let i = 0; i < runs; i += 1) renderer.render('landing', frame, data);
  return ((performance.now() - started) * 1000) / runs;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-portal-'));
  const store = await LowdbStore.open({ dir: join(dir, 'store') });
  const { config } = loadConfig({
    env: {},
    overrides: { dataDir: dir, logLevel: 'silent', portal: { rateLimitPerMinute: 1_000_000_000 } },
  });
  await seedDemoCatalogue(store, systemClock);
  for (const [name, hours, price] of [
    ['Two hours', 2, 350],
    ['Week', 168, 1500],
    ['Weekend', 60, 900],
    ['Conference', 12, 700],
  ] as const) {
    await createPlan(store, systemClock, { name, durationSeconds: hours * 3600, priceMinor: price, maxDevices: 2 });
  }
  const app = await buildPortal({
    config,
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
    authenticator: { authenticate: async () => null },
    readiness: [],
    cookieSecret: 'bench-cookie-secret-0123456789',
    guest: {
      store,
      clock: systemClock,
      config,
      logger: silentLogger,
      accounts: null,
      accessPort: null,
      secret: 'bench-secret',
    },
  });
  let staticBody = Buffer.alloc(0);
  const staticFile = join(dir, 'landing.html');
  app.get('/bench/static.html', { config: { public: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(staticBody),
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const first = await fetch(`${base}/portal`, { headers: { 'accept-language': 'en' } });
    const page = await first.text();
    const cookie = (first.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
    // The static twin: the same bytes, written to a file and served from memory as a static handler would.
    await writeFile(staticFile, page);
    staticBody = await readFile(staticFile);
    const plans = (page.match(/class="card plan"/g) ?? []).length;
    console.log(
      `landing page: ${Buffer.byteLength(page)} bytes, ${plans} plans; static file: ${staticBody.length} bytes`,
    );
    console.log(`${CONNECTIONS} connections, ${DURATION_MS} ms per run after ${WARMUP_MS} ms warm-up each`);
    await load(`${base}/bench/static.html`, WARMUP_MS, cookie);
    await load(`${base}/portal`, WARMUP_MS, cookie);
    const row = (name: string, r: Result) =>
      `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   portal cpu ${r.cpuMicros.toFixed(1).padStart(6)} µs/req`;
    // Alternating rounds, so that noise from other processes on the box hits both sides alike.
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const fixed = await load(`${base}/bench/static.html`, DURATION_MS, cookie);
      const rendered = await load(`${base}/portal`, DURATION_MS, cookie);
      ratios.push(rendered.rps / fixed.rps);
      cpuRatios.push(fixed.cpuMicros / rendered.cpuMicros);
      console.log(`round ${round}`);
      console.log(`  ${row('static file', fixed)}`);
      console.log(`  ${row('landing (templates)', rendered)}`);
      console.log(
        `  ratio ${(rendered.rps / fixed.rps).toFixed(2)} (requests/s); ${(fixed.cpuMicros / rendered.cpuMicros).toFixed(2)} (portal CPU per request, static/landing)`,
      );
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const cpuSorted = [...cpuRatios].sort((a, b) => a - b);
    // CPU per request does not count the time the portal waits for a core, so other load on the box moves it less.
    console.log(
      `median CPU-per-request ratio static/landing: ${cpuSorted[Math.floor(cpuSorted.length / 2)]!.toFixed(2)}, spread ${cpuSorted[0]!.toFixed(2)}–${cpuSorted.at(-1)!.toFixed(2)}`,
    );
    console.log(
      `median ratio landing/static: ${median.toFixed(2)}, spread ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)} (target ≥ 0.90) ${median >= 0.9 ? 'MET' : 'MISSED'}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
    console.log(
      `full template render of the landing page (cache miss, or a signed-in guest): ${renderMicros(page).toFixed(1)} µs`,
    );
  } finally {
    await app.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
