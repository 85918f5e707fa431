/**
 * bench:startup — how long the embedded default takes from the start command to
 * a healthy `/healthz`, and how much memory its two daemons (appliance and
 * provisioner) hold, for:
 *   - a reference: a static fastify server answering `/healthz`, started by node
 *     in the same run, so a start time reads as a ratio on whatever machine runs it;
 *   - the production start (`node dist/…/turnpike.js`, after `npm run build`) with
 *     the node options the systemd units give node (read from systemd/*.service,
 *     passed as NODE_OPTIONS, which the embedded provisioner inherits);
 *   - the same without those options, so their effect is measured, not assumed;
 *   - the development start (`npm start`: npm, tsx, TypeScript compiled at every
 *     start; BENCH_DEV=0 leaves it out).
 * Warm: one untimed start per mode first creates the store, secrets and
 * certificates and fills the page cache. Then ROUNDS rounds, each starting every
 * mode once in turn (alternating, so a busy moment on the machine falls on all
 * of them). After each production start the portal's captive page is loaded for
 * BENCH_LOAD_MS (0: skip) and memory is read again: the young generation grows
 * under load, so memory right after start alone would flatter the daemons.
 * Targets (production start, unit options): healthy ≤ 2 s, appliance + provisioner ≤ 200 MB RSS.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PORT = Number(process.env.BENCH_PORT ?? 42410);
const LOAD_MS = Number(process.env.BENCH_LOAD_MS ?? 4_000);
const LOAD_CONNECTIONS = 16;
const HEALTHY_WITHIN_MS = 2_000;
const DAEMONS_RSS_MB = 200;
const BUILT_CLI = join(ROOT, 'dist/appliance/cli/turnpike.js');

/**
 * The node options a unit starts node with: the words of its ExecStart between
 * the node binary and the script.
 */
function unitNodeOptions(unit: string): string[] {
  const text = readFileSync(join(ROOT, 'systemd', unit), 'utf8');
  const exec = /^ExecStart=(.*)$/m.exec(text)?.[1];
  if (!exec) throw new Error(`${unit} has no ExecStart`);
  const words = exec.trim().split(/\s+/).slice(1);
  return words.slice(
    0,
    words.findIndex((word) => !word.startsWith('-')),
  );
}

const APPLIANCE_OPTIONS = unitNodeOptions('turnpike.service');
const PROVISIONER_OPTIONS = unitNodeOptions('turnpike-provisioner.service');

/** A static fastify server on PORT: node's and fastify's own start, nothing of Turnpike's. */
const REFERENCE_SERVER = `
import Fastify from 'fastify';
const app = Fastify();
app.get('/healthz', async () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.TURNPIKE_PORTAL_PORT) });
`;

interface Mode {
  key: 'reference' | 'unit' | 'bare' | 'dev';
  label: string;
  command: string[];
  nodeOptions: string[];
  /** Loaded after the start (production starts only). */
  load: boolean;
}

const MODES: Mode[] = [
  {
    key: 'reference',
    label: 'reference: static fastify server',
    command: [process.execPath, '--input-type=module', '-e', REFERENCE_SERVER],
    nodeOptions: [],
    load: false,
  },
  {
    key: 'unit',
    label: `node dist, unit options (${APPLIANCE_OPTIONS.join(' ') || 'none'})`,
    command: [process.execPath, BUILT_CLI, 'start', '--embedded'],
    nodeOptions: APPLIANCE_OPTIONS,
    load: true,
  },
  ...(APPLIANCE_OPTIONS.length > 0
    ? [
        {
          key: 'bare' as const,
          label: 'node dist, no node options',
          command: [process.execPath, BUILT_CLI, 'start', '--embedded'],
          nodeOptions: [],
          load: true,
        },
      ]
    : []),
  ...(process.env.BENCH_DEV === '0'
    ? []
    : [
        {
          key: 'dev' as const,
          label: 'npm start (tsx)',
          command: ['npm', 'start', '--silent'],
          nodeOptions: [],
          load: false,
        },
      ]),
];

interface ProcessInfo {
  pid: number;
  ppid: number;
  rssKb: number;
  /** CPU time used so far (user + system, its reaped children included). */
  cpuMs: number;
  command: string;
}

async function processTable(): Promise<ProcessInfo[]> {
  const rows: ProcessInfo[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = await readFile(`/proc/${name}/status`, 'utf8');
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8');
      // Fields after the command name in parentheses: utime, stime, cutime, cstime are 14–17.
      const stat = (await readFile(`/proc/${name}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(stat[i]), 0);
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      rows.push({ pid: Number(name), ppid, rssKb, cpuMs: ticks * 10, command: cmdline.split('\0').join(' ').trim() });
    } catch {
      // the process ended while the table was read
    }
  }
  return rows;
}

/** The started process and all its descendants. */
async function tree(root: number): Promise<ProcessInfo[]> {
  const table = await processTable();
  const members = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const row of table) {
      if (!members.has(row.pid) && members.has(row.ppid)) {
        members.add(row.pid);
        grew = true;
      }
    }
  }
  return table.filter((row) => members.has(row.pid));
}

/** The provisioner and the process that started it (the appliance); the reference server alone. */
function daemonsOf(rows: ProcessInfo[]): ProcessInfo[] {
  const provisioner = rows.find((p) => /provisioner\/main\.[jt]s/.test(p.command));
  if (!provisioner) return rows.filter((row) => row.command.includes('Fastify'));
  return rows.filter((row) => row === provisioner || row.pid === provisioner.ppid);
}

const sumKb = (rows: ProcessInfo[]): number => rows.reduce((sum, row) => sum + row.rssKb, 0);

async function healthy(): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${PORT}/healthz`, { signal: AbortSignal.timeout(500) });
    return response.ok;
  } catch {
    return false;
  }
}

interface LoadFigures {
  perSecond: number;
  p99Ms: number;
  failed: number;
  /** CPU time the daemons spent per request answered: what garbage collection costs shows here, whatever else the machine runs. */
  cpuUsPerRequest: number;
  answered: number;
}

/** LOAD_CONNECTIONS clients fetch the captive page (rendered per request) for LOAD_MS. */
async function loadPortal(): Promise<LoadFigures> {
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: LOAD_CONNECTIONS }, async () => {
      while (performance.now() - started < LOAD_MS) {
        const sent = performance.now();
        try {
          const response = await fetch(`http://127.0.0.1:${PORT}/portal`);
          await response.arrayBuffer();
          if (response.ok) latencies.push(performance.now() - sent);
          else failed += 1;
        } catch {
          failed += 1;
        }
      }
    }),
  );
  const elapsed = performance.now() - started;
  return {
    answered: latencies.length,
    cpuUsPerRequest: 0,
    perSecond: (latencies.length / elapsed) * 1000,
    p99Ms: percentile(
      latencies.sort((a, b) => a - b),
      99,
    ),
    failed,
  };
}

interface Run {
  ms: number;
  /** CPU time the start took: wall time on an idle machine, whatever else the machine runs. */
  cpuMs: number;
  processes: ProcessInfo[];
  daemonsKb: number;
  load: (LoadFigures & { daemonsKb: number }) | null;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startOnce(mode: Mode, dataDir: string): Promise<Run> {
  const started = performance.now();
  const [file, ...args] = mode.command;
  const child = spawn(file!, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      NODE_OPTIONS: mode.nodeOptions.join(' '),
      NODE_ENV: 'production',
      TURNPIKE_DATA_DIR: dataDir,
      TURNPIKE_PORTAL_PORT: String(PORT),
      TURNPIKE_RADIUS_AUTH_PORT: String(PORT + 1),
      TURNPIKE_RADIUS_ACCT_PORT: String(PORT + 2),
      TURNPIKE_LOG_LEVEL: 'warn',
      // The load below comes from one address: the per-address limit would answer it with 429s.
      TURNPIKE_PORTAL_RATE_LIMIT_PER_MINUTE: '100000000',
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    while (!(await healthy())) {
      if (child.exitCode !== null) throw new Error(`${mode.label} exited before it was healthy:\n${stderr}`);
      if (performance.now() - started > 60_000) throw new Error(`${mode.label} not healthy within 60 s:\n${stderr}`);
      await settle(20);
    }
    const ms = performance.now() - started;
    const cpuMs = (await tree(child.pid!)).reduce((sum, row) => sum + row.cpuMs, 0);
    // Memory once the start-up garbage has had a moment to be collected.
    await settle(1_000);
    const processes = await tree(child.pid!);
    let load: Run['load'] = null;
    if (mode.load && LOAD_MS > 0) {
      const cpuBefore = daemonsOf(processes).reduce((sum, row) => sum + row.cpuMs, 0);
      const figures = await loadPortal();
      const after = daemonsOf(await tree(child.pid!));
      const cpuUsPerRequest = ((after.reduce((sum, row) => sum + row.cpuMs, 0) - cpuBefore) * 1000) / figures.answered;
      await settle(1_000);
      load = { ...figures, cpuUsPerRequest, daemonsKb: sumKb(daemonsOf(await tree(child.pid!))) };
    }
    return { ms, cpuMs, processes, daemonsKb: sumKb(daemonsOf(processes)), load };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    await settle(300);
  }
}

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const spread = (values: number[], unit: string, digits = 0): string =>
  `median ${median(values).toFixed(digits)}${unit}, spread ${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}${unit}`;

if (!existsSync(BUILT_CLI)) {
  console.error('bench:startup: run `npm run build` first (dist/ is missing)');
  process.exit(2);
}

console.log(
  `bench:startup — ${ROUNDS} alternating rounds after one warm-up start each; load average ${loadavg()[0]!.toFixed(1)}`,
);
console.log(`  turnpike.service node options: ${APPLIANCE_OPTIONS.join(' ') || 'none'}`);
console.log(`  turnpike-provisioner.service node options: ${PROVISIONER_OPTIONS.join(' ') || 'none'}`);
if (APPLIANCE_OPTIONS.join(' ') !== PROVISIONER_OPTIONS.join(' ')) {
  console.log('  (the embedded provisioner inherits the appliance unit options here, not its own)');
}

const dataDirs = new Map<Mode, string>();
const runs = new Map<Mode, Run[]>();
try {
  for (const mode of MODES) {
    const dir = await mkdtemp(join(tmpdir(), 'turnpike-startup-'));
    dataDirs.set(mode, dir);
    runs.set(mode, []);
    await startOnce(mode, dir);
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    // Each round starts the modes in a rotated order, so none always goes first.
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
    const line: string[] = [];
    for (const mode of order) {
      const run = await startOnce(mode, dataDirs.get(mode)!);
      runs.get(mode)!.push(run);
      line.push(`${mode.key} ${run.ms.toFixed(0)} ms`);
    }
    console.log(`  round ${round + 1}: ${line.join(', ')}; load average ${loadavg()[0]!.toFixed(1)}`);
  }
} finally {
  for (const dir of dataDirs.values()) await rm(dir, { recursive: true, force: true });
}

const reference = MODES.find((mode) => mode.key === 'reference')!;
const referenceRuns = runs.get(reference)!;
const summary = new Map<Mode['key'], { ms: number; daemonsMb: number; loadedMb: number | null }>();
for (const mode of MODES) {
  const all = runs.get(mode)!;
  const ratios = all.map((run, i) => run.ms / referenceRuns[i]!.ms);
  console.log(`\n${mode.label}`);
  console.log(
    `  healthy after: ${spread(
      all.map((r) => r.ms),
      ' ms',
    )}` + (mode === reference ? '' : `; ${spread(ratios, '×', 1)} the reference's, round by round`),
  );
  console.log(
    `  CPU time to healthy: ${spread(
      all.map((r) => r.cpuMs),
      ' ms',
    )}`,
  );
  const daemonsMb = median(all.map((r) => r.daemonsKb)) / 1024;
  console.log(
    `  RSS once healthy: ${spread(
      all.map((r) => r.daemonsKb / 1024),
      ' MB',
    )} (${mode.key === 'reference' ? 'the server' : 'appliance + provisioner'})`,
  );
  const loaded = all.flatMap((r) => (r.load ? [r.load] : []));
  let loadedMb: number | null = null;
  if (loaded.length > 0) {
    loadedMb = Math.max(...loaded.map((l) => l.daemonsKb)) / 1024;
    console.log(
      `  after ${LOAD_MS} ms of /portal, ${LOAD_CONNECTIONS} clients: ${spread(
        loaded.map((l) => l.perSecond),
        ' req/s',
      )}; p99 ${spread(
        loaded.map((l) => l.p99Ms),
        ' ms',
      )}; daemons' CPU per request ${spread(
        loaded.map((l) => l.cpuUsPerRequest),
        ' µs',
      )}; RSS ${spread(
        loaded.map((l) => l.daemonsKb / 1024),
        ' MB',
      )}` + (loaded.some((l) => l.failed > 0) ? `; ${loaded.reduce((s, l) => s + l.failed, 0)} requests failed` : ''),
    );
  }
  const last = all.at(-1)!;
  for (const row of last.processes) {
    const daemon = daemonsOf(last.processes).includes(row);
    console.log(`    ${mb(row.rssKb).padStart(7)}  ${daemon ? 'daemon ' : 'wrapper'}  ${row.command.slice(0, 100)}`);
  }
  summary.set(mode.key, { ms: median(all.map((r) => r.ms)), daemonsMb, loadedMb });
}

const built = summary.get('unit')!;
const worstMb = Math.max(built.daemonsMb, built.loadedMb ?? 0);
const ok = built.ms <= HEALTHY_WITHIN_MS && worstMb <= DAEMONS_RSS_MB;
console.log(
  `\nproduction start (unit options): healthy in ${built.ms.toFixed(0)} ms (target ≤ ${HEALTHY_WITHIN_MS}; ` +
    `${(built.ms / summary.get('reference')!.ms).toFixed(1)}× the reference's ${summary.get('reference')!.ms.toFixed(0)} ms), ` +
    `daemons ${built.daemonsMb.toFixed(0)} MB RSS once healthy` +
    (built.loadedMb === null ? '' : `, ${built.loadedMb.toFixed(0)} MB at most after load`) +
    ` (target ≤ ${DAEMONS_RSS_MB}) — ${ok ? 'OK' : 'MISSED'}`,
);
if (!ok) process.exitCode = 1;
