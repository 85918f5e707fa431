import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasTool } from '../appliance/testing/system-tools.js';

/** Debian installs the daemon as `freeradius`; upstream builds call it `radiusd`. */
export function freeradiusBinary(): string {
  return hasTool('freeradius') ? 'freeradius' : 'radiusd';
}

/** A UDP port that was free a moment ago (FreeRADIUS cannot report an ephemeral port back). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** The top of a radiusd.conf that keeps every path inside `dir`. */
export function baseConfig(dir: string, extra: { maxRequests?: number; threads?: number } = {}): string {
  return `prefix = /usr
exec_prefix = /usr
sysconfdir = ${dir}
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}
raddbdir = ${dir}
radacctdir = ${dir}
name = freeradius
confdir = ${dir}
run_dir = ${dir}
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = ${dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = ${extra.maxRequests ?? 16384}
hostname_lookups = no
log {
  destination = stdout
}
security {
  allow_core_dumps = no
}
thread pool {
  start_servers = ${extra.threads ?? 4}
  max_servers = ${extra.threads ?? 4}
  min_spare_servers = 1
  max_spare_servers = ${extra.threads ?? 4}
  max_requests_per_server = 0
}
`;
}

/**
 * FreeRADIUS as the dynamic-authorization side of a NAS (RFC 5176): it takes CoA and
 * Disconnect-Requests from the appliance on `port` and ACKs them, unless `recvCoa` (unlang, run
 * first) decides otherwise. It never ends a session itself, so a test's accounting may carry on.
 */
export function coaNasConfig(
  dir: string,
  options: { port: number; secret: string; requireMessageAuthenticator?: boolean; recvCoa?: string },
): string {
  return `${baseConfig(dir)}
client turnpike {
  ipaddr = 127.0.0.1
  secret = ${options.secret}
  require_message_authenticator = ${options.requireMessageAuthenticator ? 'yes' : 'no'}
}
modules {
  always reject {
    rcode = reject
  }
  always ok {
    rcode = ok
  }
}
server nas-coa {
  listen {
    type = coa
    ipaddr = 127.0.0.1
    port = ${options.port}
  }
  recv-coa {
${options.recvCoa ?? ''}
    ok
  }
  send-coa {
    ok
  }
}
`;
}

export interface RunningFreeRadius {
  child: ChildProcess;
  /** Everything the daemon printed so far (with -X: every packet it received and sent). */
  output(): string;
  stop(): Promise<void>;
}

/** Writes `radiusd.conf` into `dir` and starts FreeRADIUS on it, resolving once it is ready. */
export async function startFreeRadius(
  dir: string,
  config: string,
  options: { debug?: boolean; prefix?: string[] } = {},
): Promise<RunningFreeRadius> {
  await writeFile(join(dir, 'radiusd.conf'), config, { mode: 0o600 });
  const args = [...(options.prefix ?? []), freeradiusBinary(), options.debug === false ? '-f' : '-X', '-d', dir];
  if (options.debug === false) args.push('-l', 'stdout');
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`FreeRADIUS did not start:\n${output.slice(-3000)}`)), 15_000);
    const check = (): void => {
      if (/Ready to process requests/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`FreeRADIUS exited with ${code}:\n${output.slice(-3000)}`));
    });
  });
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
