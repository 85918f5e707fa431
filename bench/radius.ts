/**
 * bench:radius — Debian FreeRADIUS 3.2 (files backend) and Turnpike side by side on this machine.
 * Each server runs pinned to core 0, the load generator to core 1; both get the same pre-encoded
 * requests (deterministic authenticators), 256 outstanding over 4 sockets, Message-Authenticator
 * required. Prints req/s, p50/p99 and the ratio Turnpike/FreeRADIUS for PAP, CHAP and accounting,
 * and beside them the runtime floor: a bare Node dgram echo (bench/radius-echo.ts) under the same load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool } from '../appliance/testing/system-tools.js';
import { baseConfig, freeUdpPort, startFreeRadius } from '../radius/freeradius-harness.js';
import {
  userName,
  userPassword,
  voucherCode,
  type LoadOptions,
  type LoadResult,
  type Scenario,
} from './radius-load.js';

const SECRET = 'bench-secret-0123';
const USERS = Number(process.env.BENCH_USERS ?? 64);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const SCENARIOS: Scenario[] = ['pap', 'chap', 'acct'];
const SERVER_CORE = '0';
const LOAD_CORE = cpus().length > 1 ? '1' : '0';

function replyItems(index: number): string {
  return [
    'Session-Timeout = 3600',
    'Idle-Timeout = 600',
    'Acct-Interim-Interval = 300',
    'WISPr-Bandwidth-Max-Up = 2000000',
    'WISPr-Bandwidth-Max-Down = 10000000',
    `Class = "tp1:bench-sub-${index}"`,
  ].join(',\n\t');
}

/** The same accounts and vouchers as Turnpike's store, in the `files` module's format. */
function usersFile(): string {
  const lines: string[] = [];
  for (let i = 0; i < USERS; i++) {
    lines.push(`"${userName(i)}" Cleartext-Password := "${userPassword(i)}"\n\t${replyItems(i)}\n`);
    lines.push(`"${voucherCode(i)}" Cleartext-Password := "${voucherCode(i)}"\n\t${replyItems(i)}\n`);
  }
  return lines.join('\n');
}

function freeradiusConfig(dir: string, authPort: number, acctPort: number): string {
  return `${baseConfig(dir, { threads: 4 })}
client bench {
  ipaddr = 127.0.0.1
  secret = ${SECRET}
  require_message_authenticator = yes
}
modules {
  pap {
    normalise = yes
  }
  chap {
  }
  files {
    filename = ${dir}/users
    acctusersfile = ${dir}/acct_users
    preproxy_usersfile = ${dir}/preproxy_users
  }
  detail {
    filename = ${dir}/detail
    permissions = 0600
    header = "%t"
  }
}
server bench {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${authPort}
    recv_buff = 8388608
  }
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = ${acctPort}
    recv_buff = 8388608
  }
  authorize {
    chap
    files
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
    Auth-Type CHAP {
      chap
    }
  }
  preacct {
  }
  accounting {
    detail
  }
  post-auth {
  }
}
`;
}

/** User + system CPU ticks of a process and all its threads. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

interface Measured extends LoadResult {
  /** Server CPU per answered request, in microseconds: robust to other load on the machine. */
  cpuMicrosPerRequest: number;
}

/** Runs the generator pinned to its core and samples the server's CPU over the measured window. */
async function runLoad(options: LoadOptions, serverPid: number): Promise<Measured> {
  const child = spawn(
    'taskset',
    ['-c', LOAD_CORE, process.execPath, '--import', 'tsx', 'bench/radius-load.ts', '--run', JSON.stringify(options)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let ticksAtStart = 0;
  let ticks = 0;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    if (text.includes('measure-start')) ticksAtStart = cpuTicks(serverPid);
    if (text.includes('measure-end')) ticks = cpuTicks(serverPid) - ticksAtStart;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const result = JSON.parse(output.trim().split('\n').pop()!) as LoadResult;
  const ticksPerSecond = 100;
  return {
    ...result,
    cpuMicrosPerRequest: result.completed > 0 ? ((ticks / ticksPerSecond) * 1e6) / result.completed : NaN,
  };
}

function loadOptions(scenario: Scenario, authPort: number, acctPort: number): LoadOptions {
  return {
    host: '127.0.0.1',
    port: scenario === 'acct' ? acctPort : authPort,
    secret: SECRET,
    scenario,
    users: USERS,
    classPrefix: 'bench-sub-',
    sockets: 4,
    outstandingPerSocket: 64,
    warmupMs: 1000,
    durationMs: DURATION_MS,
    packetsPerSocket: Math.ceil((DURATION_MS + 1500) * 20),
  };
}

/** Starts a Node process pinned to the server core and waits for the JSON line naming its ports. */
async function startPinned<T>(args: string[]): Promise<{ child: ChildProcess; ports: T }> {
  const child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, '--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<T>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { child, ports };
}

async function stopPinned(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const format = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Waits until neither server uses CPU any more: FreeRADIUS keeps cleaning up its request list
 * for seconds after a run, and that work on the shared core must not land in the other's run.
 */
async function settle(pids: number[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const before = pids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (pids.reduce((sum, pid) => sum + cpuTicks(pid), 0) - before <= 2) return;
  }
}
type Server = 'freeradius' | 'turnpike' | 'echo';

/** The run with the most requests/s stands for a server: other work on the machine only slows runs down. */
function best(runs: Measured[]): Measured {
  return runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  for (const tool of ['taskset', 'freeradius']) {
    if (!hasTool(tool)) throw new Error(`${tool} is missing (apt-get install util-linux freeradius)`);
  }
  const root = await mkdtemp(join(tmpdir(), 'turnpike-bench-radius-'));
  const runs: Record<Scenario, Record<Server, Measured[]>> = {
    pap: { freeradius: [], turnpike: [], echo: [] },
    chap: { freeradius: [], turnpike: [], echo: [] },
    acct: { freeradius: [], turnpike: [], echo: [] },
  };
  const frDir = join(root, 'freeradius');
  await mkdir(frDir);
  await writeFile(join(frDir, 'users'), usersFile());
  await writeFile(join(frDir, 'acct_users'), '');
  await writeFile(join(frDir, 'preproxy_users'), '');
  const [authPort, acctPort] = [await freeUdpPort(), await freeUdpPort()];
  const freeradius = await startFreeRadius(frDir, freeradiusConfig(frDir, authPort, acctPort), {
    debug: false,
    prefix: ['taskset', '-c', SERVER_CORE],
  });
  const turnpike = await startPinned<{ authPort: number; acctPort: number }>([
    'bench/radius-turnpike.ts',
    join(root, 'turnpike'),
    SECRET,
    String(USERS),
  ]);
  const echo = await startPinned<{ port: number }>(['bench/radius-echo.ts']);
  try {
    // Alternate the two servers run by run so that both see the same background load.
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of SCENARIOS) {
        const pids = [freeradius.child.pid!, turnpike.child.pid!, echo.child.pid!];
        await settle(pids);
        const fr = await runLoad(loadOptions(scenario, authPort, acctPort), freeradius.child.pid!);
        runs[scenario].freeradius.push(fr);
        await settle(pids);
        const { authPort: tpAuth, acctPort: tpAcct } = turnpike.ports;
        const tp = await runLoad(loadOptions(scenario, tpAuth, tpAcct), turnpike.child.pid!);
        runs[scenario].turnpike.push(tp);
        await settle(pids);
        const floor = await runLoad(loadOptions(scenario, echo.ports.port, echo.ports.port), echo.child.pid!);
        runs[scenario].echo.push(floor);
        console.error(
          `round ${round} ${scenario}: FreeRADIUS ${fr.requestsPerSecond.toFixed(0)}/s ${fr.cpuMicrosPerRequest.toFixed(1)} µs CPU; Turnpike ${tp.requestsPerSecond.toFixed(0)}/s ${tp.cpuMicrosPerRequest.toFixed(1)} µs CPU; Node echo ${floor.requestsPerSecond.toFixed(0)}/s ${floor.cpuMicrosPerRequest.toFixed(1)} µs CPU`,
        );
      }
    }
  } finally {
    await freeradius.stop();
    await stopPinned(turnpike.child);
    await stopPinned(echo.child);
    await rm(root, { recursive: true, force: true });
  }
  const label: Record<Scenario, string> = {
    pap: 'PAP auth (MA required)',
    chap: 'CHAP auth (MA required)',
    acct: 'accounting Interim-Update (Turnpike: change record and accounting line fsynced before the response)',
  };
  console.log(
    `\nRADIUS bench: ${USERS} users, 256 outstanding over 4 sockets, ${DURATION_MS} ms × ${ROUNDS} alternating rounds; servers on core ${SERVER_CORE}, generator on core ${LOAD_CORE}.`,
  );
  console.log(
    "req/s and p50/p99 are from each server's best round; CPU µs/request is the median server CPU time per answered request; the round ratio is the median of the rounds' Turnpike/FreeRADIUS req/s, each pair run back to back. Node echo is a bare dgram server answering each datagram at once: what Node spends per request before any RADIUS work (it never saturates its core, so under saturation the floor is a little higher).\n",
  );
  console.log(
    '| scenario | FreeRADIUS req/s | p50 ms | p99 ms | CPU µs/req | Turnpike req/s | p50 ms | p99 ms | CPU µs/req | ratio req/s | median round ratio | ratio CPU efficiency | Node echo CPU µs/req |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const scenario of SCENARIOS) {
    const fr = best(runs[scenario].freeradius);
    const tp = best(runs[scenario].turnpike);
    const frCpu = median(runs[scenario].freeradius.map((run) => run.cpuMicrosPerRequest));
    const tpCpu = median(runs[scenario].turnpike.map((run) => run.cpuMicrosPerRequest));
    const echoCpu = median(runs[scenario].echo.map((run) => run.cpuMicrosPerRequest));
    const roundRatio = median(
      runs[scenario].turnpike.map(
        (run, round) => run.requestsPerSecond / runs[scenario].freeradius[round]!.requestsPerSecond,
      ),
    );
    console.log(
      `| ${label[scenario]} | ${format(fr.requestsPerSecond)} | ${format(fr.p50Ms, 2)} | ${format(fr.p99Ms, 2)} | ${format(frCpu, 1)} | ${format(tp.requestsPerSecond)} | ${format(tp.p50Ms, 2)} | ${format(tp.p99Ms, 2)} | ${format(tpCpu, 1)} | ${format(tp.requestsPerSecond / fr.requestsPerSecond, 2)}× | ${format(roundRatio, 2)}× | ${format(frCpu / tpCpu, 2)}× | ${format(echoCpu, 1)} |`,
    );
    const lost = [...runs[scenario].freeradius, ...runs[scenario].turnpike, ...runs[scenario].echo].reduce(
      (sum, run) => sum + run.lost,
      0,
    );
    if (lost > 0) console.log(`(${scenario}: ${lost} requests unanswered within 1 s across all runs)`);
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `\nLoad average at the end: ${load} (other processes share these cores; ratios compare runs taken side by side).`,
  );
}

await main();
