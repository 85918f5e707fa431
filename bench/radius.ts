/**
 * bench:radius — Debian FreeRADIUS 3.2 (files backend) and Turnpike side by side on this machine.
 * Each server runs pinned to core 0, the load generator to core 1; both get the same pre-encoded
 * requests (deterministic authenticators), 256 outstanding over 4 sockets, Message-Authenticator
 * required. Prints req/s, p50/p99 and the ratio Turnpike/FreeRADIUS for PAP, CHAP and accounting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool } from '../appliance/testing/system-tools.js';
import { baseConfig, freeUdpPort, startFreeRadius } from '../radius/freeradius-harness.js';
import { userName, userPassword, voucherCode, type LoadOptions, type LoadResult, type Scenario } from './radius-load.js';

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

async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const child = spawn('taskset', ['-c', LOAD_CORE, process.execPath, '--import', 'tsx', 'bench/radius-load.ts', '--run', JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(output.trim().split('\n').pop()!) as LoadResult;
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

async function startTurnpike(dir: string): Promise<{ child: ChildProcess; authPort: number; acctPort: number }> {
  const child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, '--import', 'tsx', 'bench/radius-turnpike.ts', dir, SECRET, String(USERS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ authPort: number; acctPort: number }>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { authPort: number; acctPort: number });
    });
    child.once('exit', (code) => reject(new Error(`Turnpike exited with ${code}`)));
  });
  return { child, ...ports };
}

const format = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

async function main(): Promise<void> {
  for (const tool of ['taskset', 'freeradius']) {
    if (!hasTool(tool)) throw new Error(`${tool} is missing (apt-get install util-linux freeradius)`);
  }
  const root = await mkdtemp(join(tmpdir(), 'turnpike-bench-radius-'));
  const results: Record<string, { freeradius?: LoadResult; turnpike?: LoadResult }> = {};
  try {
    const frDir = join(root, 'freeradius');
    await import('node:fs/promises').then((fs) => fs.mkdir(frDir));
    await writeFile(join(frDir, 'users'), usersFile());
    await writeFile(join(frDir, 'acct_users'), '');
    await writeFile(join(frDir, 'preproxy_users'), '');
    const [authPort, acctPort] = [await freeUdpPort(), await freeUdpPort()];
    const freeradius = await startFreeRadius(frDir, freeradiusConfig(frDir, authPort, acctPort), { debug: false, prefix: ['taskset', '-c', SERVER_CORE] });
    try {
      for (const scenario of SCENARIOS) {
        results[scenario] = { freeradius: await runLoad(loadOptions(scenario, authPort, acctPort)) };
        console.error(`FreeRADIUS ${scenario}: ${JSON.stringify(results[scenario]!.freeradius)}`);
      }
    } finally {
      await freeradius.stop();
    }
    const tpDir = join(root, 'turnpike');
    const turnpike = await startTurnpike(tpDir);
    try {
      for (const scenario of SCENARIOS) {
        results[scenario]!.turnpike = await runLoad(loadOptions(scenario, turnpike.authPort, turnpike.acctPort));
        console.error(`Turnpike ${scenario}: ${JSON.stringify(results[scenario]!.turnpike)}`);
      }
    } finally {
      const exited = new Promise((resolve) => turnpike.child.once('exit', resolve));
      turnpike.child.kill('SIGTERM');
      await exited;
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const label: Record<Scenario, string> = { pap: 'PAP auth (MA required)', chap: 'CHAP auth (MA required)', acct: 'accounting (Turnpike durable)' };
  console.log(`\nRADIUS, ${USERS} users, 256 outstanding, ${DURATION_MS} ms per run; server on core ${SERVER_CORE}, load on core ${LOAD_CORE}\n`);
  console.log('| scenario | FreeRADIUS req/s | p50 ms | p99 ms | Turnpike req/s | p50 ms | p99 ms | Turnpike/FreeRADIUS |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const scenario of SCENARIOS) {
    const { freeradius: fr, turnpike: tp } = results[scenario]!;
    if (!fr || !tp) continue;
    console.log(
      `| ${label[scenario]} | ${format(fr.requestsPerSecond)} | ${format(fr.p50Ms, 2)} | ${format(fr.p99Ms, 2)} | ${format(tp.requestsPerSecond)} | ${format(tp.p50Ms, 2)} | ${format(tp.p99Ms, 2)} | ${format(tp.requestsPerSecond / fr.requestsPerSecond, 2)}× |`,
    );
    if (fr.lost + tp.lost > 0 || fr.wrapped || tp.wrapped) {
      console.log(`|  (lost: FreeRADIUS ${fr.lost}, Turnpike ${tp.lost}${fr.wrapped || tp.wrapped ? '; request pool wrapped' : ''}) |`);
    }
  }
}

await main();
