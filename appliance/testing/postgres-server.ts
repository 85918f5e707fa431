import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { isRoot, requireSystem } from './system-tools.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 (the `postgresql` package); its programs are not on PATH. */
export const POSTGRES_BIN = process.env.TP_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/** A throwaway PostgreSQL cluster: its own data directory, socket directory and loopback port. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`, trust authentication. */
  url: string;
  /**
   * Stops the server the way a crash does (`pg_ctl -m immediate`: no checkpoint, clients cut
   * off), keeps it down for `downMs`, then starts it again on the same port and data.
   */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops the server (immediately) and removes its directory. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Prefix of the directory made under /var/tmp; the postgres user must be able to reach it. */
  prefix?: string;
  /** Ports tried in order until one is free (default: one the kernel picks). */
  ports?: readonly number[];
}

/**
 * Skips the test loudly without PostgreSQL on a developer machine; under CI=true its absence is
 * a failure (.ci/apt-packages lists `postgresql`).
 */
export function requirePostgres(t: TestContext): boolean {
  return requireSystem(t, {
    tools: [join(POSTGRES_BIN, 'initdb'), join(POSTGRES_BIN, 'pg_ctl'), ...(isRoot() ? ['runuser'] : [])],
  });
}

/**
 * Starts a fresh cluster. The directory lives under /var/tmp, not os.tmpdir(): initdb refuses
 * to run as root, so under root the server runs as `postgres`, which must reach the directory.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const base = await mkdtemp(join('/var/tmp', options.prefix ?? 'tp-pg-'));
  const data = join(base, 'data');
  const log = join(base, 'postgres.log');
  const asOwner = async (program: string, args: string[]): Promise<void> => {
    const command = isRoot()
      ? (['runuser', ['-u', 'postgres', '--', join(POSTGRES_BIN, program), ...args]] as const)
      : ([join(POSTGRES_BIN, program), args] as const);
    await run(command[0], [...command[1]], { timeout: 60_000 });
  };
  try {
    if (isRoot()) await chown(base, idOf('postgres', '-u'), idOf('postgres', '-g'));
    await asOwner('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '-N']);
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }

  let port = 0;
  const start = async (): Promise<void> => {
    await asOwner('pg_ctl', [
      '-D',
      data,
      '-l',
      log,
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      'start',
    ]);
  };
  const halt = async (): Promise<void> => {
    if (existsSync(join(data, 'postmaster.pid')))
      await asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };

  // Two clusters starting at once may pick the same free port: the loser tries the next one.
  const candidates = options.ports ? [...options.ports] : [];
  for (let attempt = 0; ; attempt++) {
    port = candidates.length > 0 ? await firstFree(candidates) : await kernelPort();
    try {
      await start();
      break;
    } catch (error) {
      candidates.splice(0, candidates.indexOf(port) + 1);
      if (attempt >= 4 || (options.ports && candidates.length === 0)) {
        await rm(base, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start (log ${log}): ${String(error)}`);
      }
    }
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart({ downMs = 0 } = {}) {
      await halt();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    async stop() {
      try {
        await halt();
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
  };
}

/** The numeric user or group id of `user` (`id -u` / `id -g`), for chown. */
function idOf(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

async function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function firstFree(ports: readonly number[]): Promise<number> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port among ${ports.join(', ')}`);
}
