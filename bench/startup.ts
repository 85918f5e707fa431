/**
 * bench:startup — how long the embedded default takes from the start command to
 * a healthy `/healthz`, and how much memory its processes hold once healthy,
 * for the development start (`npm start`: npm, tsx, TypeScript compiled at
 * every start) and the production start (`node dist/…/turnpike.js`, after
 * `npm run build`). Warm: one untimed start first creates the store, secrets
 * and certificates and fills the page cache; ROUNDS timed starts follow.
 * Targets (production start): healthy ≤ 2 s, appliance + provisioner ≤ 200 MB RSS.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 42410);
const HEALTHY_WITHIN_MS = 2_000;
const DAEMONS_RSS_MB = 200;

interface Mode {
  label: string;
  command: string[];
}

const MODES: Mode[] = [
  { label: 'npm start (tsx)', command: ['npm', 'start', '--silent'] },
  {
    label: 'node dist (built)',
    command: [process.execPath, join(ROOT, 'dist/appliance/cli/turnpike.js'), 'start', '--embedded'],
  },
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

async function healthy(): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${PORT}/healthz`, { signal: AbortSignal.timeout(500) });
    return response.ok;
  } catch {
    return false;
  }
}

interface Run {
  ms: number;
  /** CPU time the start took: wall time on an idle machine, whatever else the machine runs. */
  cpuMs: number;
  processes: ProcessInfo[];
}

async function startOnce(mode: Mode, dataDir: string): Promise<Run> {
  const started = performance.now();
  const [file, ...args] = mode.command;
  const child = spawn(file!, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      TURNPIKE_DATA_DIR: dataDir,
      TURNPIKE_PORTAL_PORT: String(PORT),
      TURNPIKE_RADIUS_AUTH_PORT: String(PORT + 1),
      TURNPIKE_RADIUS_ACCT_PORT: String(PORT + 2),
      TURNPIKE_LOG_LEVEL: 'warn',
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    while (!(await healthy())) {
      if (child.exitCode !== null) throw new Error(`${mode.label} exited before it was healthy:\n${stderr}`);
      if (performance.now() - started > 60_000) throw new Error(`${mode.label} not healthy within 60 s:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ms = performance.now() - started;
    const cpuMs = (await tree(child.pid!)).reduce((sum, row) => sum + row.cpuMs, 0);
    // Memory once the start-up garbage has had a moment to be collected.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return { ms, cpuMs, processes: await tree(child.pid!) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function isDaemon(row: ProcessInfo, all: ProcessInfo[]): boolean {
  const provisioner = all.find((p) => /provisioner\/main\.[jt]s/.test(p.command));
  return row === provisioner || row.pid === provisioner?.ppid;
}

async function bench(mode: Mode): Promise<{ medianMs: number; daemonsMb: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'h16-startup-'));
  try {
    await startOnce(mode, dataDir);
    const runs: Run[] = [];
    for (let i = 0; i < ROUNDS; i += 1) runs.push(await startOnce(mode, dataDir));
    const medianMs = percentile(
      runs.map((r) => r.ms).sort((a, b) => a - b),
      50,
    );
    const last = runs.at(-1)!;
    const mb = (kb: number): string => `${(kb / 1024).toFixed(0).padStart(4)} MB`;
    console.log(
      `\n${mode.label}: healthy after ${runs.map((r) => `${r.ms.toFixed(0)} ms`).join(', ')} (median ${medianMs.toFixed(0)} ms); ` +
        `CPU time to healthy ${runs.map((r) => `${r.cpuMs} ms`).join(', ')}; load average ${loadavg()[0]!.toFixed(1)}`,
    );
    for (const row of last.processes) {
      console.log(
        `  ${mb(row.rssKb)}  ${isDaemon(row, last.processes) ? 'daemon ' : 'wrapper'}  ${row.command.slice(0, 110)}`,
      );
    }
    const daemonsKb = last.processes.filter((row) => isDaemon(row, last.processes)).reduce((s, r) => s + r.rssKb, 0);
    const totalKb = last.processes.reduce((s, r) => s + r.rssKb, 0);
    console.log(`  ${mb(daemonsKb)}  appliance + provisioner;  ${mb(totalKb)}  with wrappers`);
    return { medianMs, daemonsMb: daemonsKb / 1024 };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (!existsSync(join(ROOT, 'dist/appliance/cli/turnpike.js'))) {
  console.error('bench:startup: run `npm run build` first (dist/ is missing)');
  process.exit(2);
}
const results = [];
for (const mode of MODES) results.push({ mode, ...(await bench(mode)) });
const built = results.at(-1)!;
const ok = built.medianMs <= HEALTHY_WITHIN_MS && built.daemonsMb <= DAEMONS_RSS_MB;
console.log(
  `\nproduction start: healthy in ${built.medianMs.toFixed(0)} ms (target ≤ ${HEALTHY_WITHIN_MS}), ` +
    `daemons ${built.daemonsMb.toFixed(0)} MB RSS (target ≤ ${DAEMONS_RSS_MB}) — ${ok ? 'OK' : 'MISSED'}`,
);
if (!ok) process.exitCode = 1;
