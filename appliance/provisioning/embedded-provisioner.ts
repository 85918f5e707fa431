import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../shared/logger.js';
import { initPki, loadClientTls, loadJwtSigningKey } from '../pki/pki-store.js';
import { ProvisionerClient, type ProvisionerClientOptions } from './provisioner-client.js';

export interface EmbeddedProvisioner {
  /** `127.0.0.1:port` of the child's gRPC server. */
  address: string;
  pid: number;
  stop(): Promise<void>;
}

/** The daemon entry next to this checkout: TypeScript under tsx in development, JavaScript when built. */
function provisionerEntry(): { args: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`../../provisioner/main.${ts ? 'ts' : 'js'}`, import.meta.url));
  // tsx resolved from this package, so the child starts whatever the working directory.
  return { args: ts ? ['--import', import.meta.resolve('tsx'), entry] : [entry] };
}

/**
 * The embedded default's provisioner: a CHILD PROCESS (the same binary systemd
 * runs, with the memory drivers) on 127.0.0.1 with an OS-chosen port, over the
 * same mTLS + call-token path as production. Creates the PKI in `tlsDir` when
 * it is missing. Resolves once the child reports its address.
 */
export async function startEmbeddedProvisioner(options: {
  tlsDir: string;
  logger: Logger;
  /** The appliance's tracing settings, so the child's spans join the same traces. */
  tracing?: { otlpEndpoint: string; samplingRatio: number };
  startTimeoutMs?: number;
}): Promise<EmbeddedProvisioner> {
  await initPki({ dir: options.tlsDir });
  const { args } = provisionerEntry();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...args,
      ...['--listen', '127.0.0.1:0', '--tls-dir', options.tlsDir, '--driver', 'memory', '--accounts', 'memory'],
      ...(options.tracing?.otlpEndpoint
        ? ['--otlp-endpoint', options.tracing.otlpEndpoint, '--trace-sampling', String(options.tracing.samplingRatio)]
        : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs = createInterface({ input: child.stderr! });
  logs.on('line', (line) => options.logger.warn({ provisioner: line }, 'embedded provisioner stderr'));

  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('embedded provisioner did not start in time'));
    }, options.startTimeoutMs ?? 20_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { listening?: string };
        if (parsed.listening) {
          clearTimeout(timer);
          resolve(parsed.listening);
        }
      } catch {
        // pino log lines also arrive on stdout; only the announcement matters here.
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded provisioner exited with ${code}`));
    });
  });
  options.logger.info({ address, pid: child.pid }, 'embedded provisioner started');

  return {
    address,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** A client for the provisioner at `address`, with the appliance's certificate and call-token key from `tlsDir`. */
export async function createProvisionerClient(
  options: { address: string; tlsDir: string } & Omit<ProvisionerClientOptions, 'address' | 'tls' | 'jwtKey'>,
): Promise<ProvisionerClient> {
  const { tlsDir, ...rest } = options;
  return new ProvisionerClient({
    ...rest,
    tls: await loadClientTls(tlsDir),
    jwtKey: await loadJwtSigningKey(tlsDir),
  });
}
