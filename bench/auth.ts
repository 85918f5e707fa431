/**
 * bench:auth — does password hashing stall the server? p99 latency of
 * GET /healthz from one keep-alive client, first alone, then while 64 clients
 * hammer POST /api/v1/auth/login with wrong passwords (bcrypt cost 10 each;
 * rate limits and lockout raised so every attempt really hashes). Prints both,
 * login throughput and the ratio. Target: ratio <= 3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { systemClock } from '../shared/clock.js';
import { validateConfig } from '../appliance/config/load-config.js';
import { silentLogger } from '../shared/logger.js';
import type { MailPort } from '../appliance/mail/mail-port.js';
import { createMetrics } from '../appliance/metrics.js';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import { createAuthentication } from '../portal/auth/create-authentication.js';
import { buildPortal } from '../portal/portal.js';
import { formatRow, summarize } from './stats.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 64);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 8_000);
const WARMUP_MS = 1_000;

/** Worker: `probe` = one keep-alive socket doing sequential GET /healthz; `hammer` = CLIENTS login loops. */
const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { mode, port, durationMs, clients, email } = workerData;
async function probe() {
  const latencies = [];
  const deadline = Date.now() + durationMs;
  const request = Buffer.from('GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n');
  await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let buffered = '';
    let started = 0n;
    const send = () => {
      if (Date.now() >= deadline) { socket.end(); resolve(); return; }
      started = process.hrtime.bigint();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\\d+)/i.exec(buffered.slice(0, end))[1]);
      if (buffered.length < end + 4 + length) return;
      buffered = buffered.slice(end + 4 + length);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      send();
    });
  });
  return { latencies };
}
async function hammer() {
  const deadline = Date.now() + durationMs;
  const statuses = {};
  const latencies = [];
  const body = JSON.stringify({ email, password: 'definitely the wrong password' });
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      const response = await fetch('http://127.0.0.1:' + port + '/api/v1/auth/login', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      statuses[response.status] = (statuses[response.status] || 0) + 1;
    }
  }));
  return { latencies, statuses };
}
(mode === 'probe' ? probe() : hammer()).then((result) => parentPort.postMessage(result));
`;

interface LoadResult {
  latencies: number[];
  statuses?: Record<string, number>;
}

function load(workerData: Record<string, unknown>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD, { eval: true, workerData });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

const noMail: MailPort = { send: async () => undefined };

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-bench-auth-'));
  const config = validateConfig(
    {
      dataDir: dir,
      logLevel: 'silent',
      portal: { host: '127.0.0.1', port: 0, rateLimitPerMinute: 100_000_000, authRateLimitPerMinute: 100_000_000 },
      auth: { lockout: { freeAttempts: 1_000_000_000, perAddressFreeAttempts: 1_000_000_000 } },
    },
    'bench',
  );
  const store = await LowdbStore.open({ dir });
  const metrics = createMetrics({ defaultMetrics: false });
  const auth = await createAuthentication({
    store,
    clock: systemClock,
    config,
    logger: silentLogger,
    metrics,
    mail: noMail,
  });
  const email = 'bench-guest@example.test';
  await auth.accounts.users.createUser({ email, role: 'guest', password: 'the right bench passphrase' }, null);
  const app = await buildPortal({
    config,
    logger: silentLogger,
    metrics,
    authenticator: auth.authenticator,
    readiness: [],
    cookieSecret: 'bench-cookie-secret-0123456789abcdef',
    authRoutes: auth.routes,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  try {
    console.log(
      `bench:auth — ${CLIENTS} login clients, bcrypt cost ${config.auth.bcryptCostGuest}, ` +
        `${config.auth.hashConcurrency} hashing threads, ${DURATION_MS} ms per phase`,
    );
    await load({ mode: 'probe', port, durationMs: WARMUP_MS });
    const alone = await load({ mode: 'probe', port, durationMs: DURATION_MS });
    const hammer = load({ mode: 'hammer', port, durationMs: DURATION_MS + 2 * WARMUP_MS, clients: CLIENTS, email });
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const underLoad = await load({ mode: 'probe', port, durationMs: DURATION_MS });
    const logins = await hammer;

    const aloneSummary = summarize(alone.latencies, DURATION_MS);
    const loadSummary = summarize(underLoad.latencies, DURATION_MS);
    const loginSummary = summarize(logins.latencies, DURATION_MS + 2 * WARMUP_MS);
    console.log(formatRow('GET /healthz alone', aloneSummary));
    console.log(formatRow('GET /healthz during logins', loadSummary));
    console.log(formatRow('POST /auth/login (wrong pw)', loginSummary));
    console.log(`login statuses: ${JSON.stringify(logins.statuses)}`);
    const ratio = loadSummary.p99 / aloneSummary.p99;
    console.log(`p99 ratio (during / alone): ${ratio.toFixed(2)}  (target <= 3: ${ratio <= 3 ? 'met' : 'NOT met'})`);
  } finally {
    await app.close();
    await auth.accounts.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
