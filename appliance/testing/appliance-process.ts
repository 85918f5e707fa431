import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../cli/turnpike.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface ApplianceProcessOptions {
  /** Names the process in failures and its data directory (`<dir>/<name>`). */
  name: string;
  dir: string;
  postgresUrl: string;
  /** Ports to listen on; 0 (the default) lets the kernel choose, read back from the start banner. */
  ports?: { portal: number; auth: number; acct: number };
  /** Merged over the generated configuration, section by section. */
  config?: Record<string, Record<string, unknown>>;
}

/** A JSON log line the appliance printed, with when this process read it. */
export interface LogLine {
  msg?: string;
  receivedAt: number;
  [key: string]: unknown;
}

/** `turnpike start` in a child process of its own, as one box of several on one database. */
export interface ApplianceProcess {
  name: string;
  pid: number;
  portalUrl: string;
  authTarget: string;
  acctTarget: string;
  /** Everything it printed: the banner and the JSON log. */
  output: string[];
  logs(): LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then waits for the clean stop (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts an appliance on PostgreSQL with its own portal and RADIUS ports, and resolves once it
 * prints that it is running. The processes of one test share the database and nothing else.
 */
export async function spawnAppliance(options: ApplianceProcessOptions): Promise<ApplianceProcess> {
  const dataDir = join(options.dir, options.name);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { portal, auth, acct } = options.ports ?? { portal: 0, auth: 0, acct: 0 };
  const overrides = options.config ?? {};
  const config = {
    dataDir,
    logLevel: 'info',
    store: { driver: 'postgres', postgres: { url: options.postgresUrl } },
    ...overrides,
    portal: {
      host: '127.0.0.1',
      port: portal,
      publicUrl: `http://127.0.0.1:${portal || 8080}`,
      rateLimitPerMinute: 1_000_000,
      authRateLimitPerMinute: 1_000_000,
      ...overrides.portal,
    },
    radius: { listen: ['127.0.0.1'], authPort: auth, acctPort: acct, ...overrides.radius },
    telemetry: { metricsPort: 0, ...overrides.telemetry },
  };
  const configFile = join(options.dir, `${options.name}.json`);
  await writeFile(configFile, JSON.stringify(config, null, 2));

  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--config', configFile, 'start'], {
    cwd: REPO,
    env: { ...process.env, TURNPIKE_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Set TP_TEST_APPLIANCE_LOGS to a directory to keep each process's output after the test removed its own.
  const keepLog = process.env.TP_TEST_APPLIANCE_LOGS
    ? join(process.env.TP_TEST_APPLIANCE_LOGS, `${options.name}.log`)
    : null;
  const output: string[] = [];
  const parsed: LogLine[] = [];
  let pending = '';
  let onLine: ((line: string) => void) | null = null;
  const take = (chunk: Buffer): void => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      if (keepLog) appendFileSync(keepLog, `${line}\n`);
      if (line.startsWith('{')) {
        try {
          parsed.push({ ...(JSON.parse(line) as Record<string, unknown>), receivedAt: Date.now() });
        } catch {
          // A line that only looks like JSON stays in `output`.
        }
      }
      onLine?.(line);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const banner: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('did not start within 90 s')), 90_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`appliance ${options.name}: ${error.message}\n${output.slice(-40).join('\n')}`));
    };
    onLine = (line) => {
      if (line.startsWith('Turnpike is running')) banner.push(line);
      else if (banner.length > 0 && line.startsWith('  ')) banner.push(line);
      if (!/^\s+Mail outbox:/.test(line) || banner.length === 0) return;
      clearTimeout(timer);
      resolve();
    };
    void exited.then(({ code, signal }) => fail(new Error(`exited (${code ?? signal}) before it ran`)));
  });
  onLine = null;
  const text = banner.join('\n');
  const portalUrl = /Portal:\s+(http:\/\/\S+?)\/?$/m.exec(text)?.[1];
  const radius = /RADIUS:.*auth (\d+), accounting (\d+)/.exec(text);
  if (!portalUrl || !radius) throw new Error(`appliance ${options.name}: no ports in its banner:\n${text}`);

  return {
    name: options.name,
    pid: child.pid!,
    portalUrl,
    authTarget: `127.0.0.1:${radius[1]}`,
    acctTarget: `127.0.0.1:${radius[2]}`,
    output,
    logs: () => [...parsed],
    exited,
    kill: (signal) => void child.kill(signal),
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
