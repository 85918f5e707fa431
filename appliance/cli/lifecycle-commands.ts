import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { isTurnpikeError, TurnpikeError } from '../../shared/errors.js';
import { PKI_FILES, rotatePki } from '../pki/pki-store.js';
import { tlsDirOf } from '../provisioning/create-provisioning.js';
import { backupStore, restoreStore } from '../store/lowdb-store.js';
import { exportStore } from '../store/store-transfer.js';
import { openConfiguredStore } from '../open-store.js';
import { initAppliance, startAppliance } from '../main.js';
import { parseFlags, UsageError } from './command.js';

/** `turnpike config check [FILE]`: never throws; says what is wrong and where. */
export function runConfigCheck(file: string | undefined, embedded: boolean): { ok: boolean; lines: string[] } {
  try {
    const { source } = loadConfig({ file, embedded });
    return { ok: true, lines: [`${source ?? 'built-in defaults'}: OK`] };
  } catch (err) {
    if (isTurnpikeError(err, 'TP_ERR_CONFIG')) return { ok: false, lines: [err.message] };
    throw err;
  }
}

export async function runBackup(loaded: LoadedConfig, args: string[]): Promise<string[]> {
  const [target] = args;
  if (!target) throw new UsageError('usage: turnpike backup FILE');
  if (loaded.config.store.driver === 'postgres') {
    // Appliances may keep running: the export reads one consistent view of the shared database.
    const store = await openConfiguredStore(loaded.config);
    try {
      await exportStore(store, resolve(target), new Date());
    } finally {
      await store.close();
    }
    return [`store exported to ${resolve(target)}; turnpike db import FILE loads it into an empty database`];
  }
  const dir = resolve(loaded.config.dataDir);
  // Only reads: a missing store is said so, never created empty and backed up as if it held something.
  if (!existsSync(join(dir, 'db.json'))) {
    throw new TurnpikeError('TP_ERR_CONFIG', `there is no store in ${dir} to back up; nothing was created`);
  }
  await backupStore(dir, resolve(target));
  return [`store backed up to ${resolve(target)}`];
}

export async function runRestore(loaded: LoadedConfig, args: string[]): Promise<string[]> {
  const [source] = args;
  if (!source) throw new UsageError('usage: turnpike restore FILE');
  if (loaded.config.store.driver === 'postgres') {
    throw new TurnpikeError(
      'TP_ERR_CONFIG',
      'a shared PostgreSQL store is never replaced under running appliances: load the backup into an empty database with turnpike db import FILE, then point store.postgres.url at it',
    );
  }
  await restoreStore(resolve(loaded.config.dataDir), resolve(source));
  return [`store restored from ${resolve(source)}; start the appliance to use it`];
}

export async function runInit(loaded: LoadedConfig, args: string[], configFile: string): Promise<string[]> {
  const { flags } = parseFlags(args, ['data-dir', 'admin-email', 'public-url']);
  return initAppliance({
    loaded,
    configFile,
    ...(flags['data-dir'] !== undefined ? { dataDir: flags['data-dir'] } : {}),
    ...(flags['admin-email'] !== undefined ? { adminEmail: flags['admin-email'] } : {}),
    ...(flags['public-url'] !== undefined ? { publicUrl: flags['public-url'] } : {}),
  });
}

/** What a signal stopped, in one line. */
export function stoppedLine(signal: string, loaded: LoadedConfig): string {
  const doors = ['portal', ...(loaded.config.radius.enabled ? ['RADIUS'] : [])].join(', ');
  return `Turnpike stopped on ${signal}: ${doors} and the store in ${resolve(loaded.config.dataDir)} are closed.`;
}

/** Runs until SIGINT/SIGTERM, then stops every door and flushes the store. */
export async function runStart(
  loaded: LoadedConfig,
  options: { embedded: boolean; adminSocket: string },
): Promise<void> {
  // Listening before the start, so a signal that comes while it runs still stops cleanly, with its line.
  let requested: NodeJS.Signals | null = null;
  let onSignal = (signal: NodeJS.Signals): void => {
    requested ??= signal;
  };
  const handler = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  let appliance: Awaited<ReturnType<typeof startAppliance>>;
  try {
    appliance = await startAppliance({
      config: loaded.config,
      configSource: loaded.source,
      embedded: options.embedded,
      adminSocket: options.adminSocket,
      out: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (err) {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    throw err;
  }
  await new Promise<void>((resolveStop) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      void appliance.stop().then(() => {
        // One line, so a service log shows the stop was asked for and finished.
        process.stdout.write(`${stoppedLine(signal, loaded)}\n`);
        resolveStop();
      });
    };
    if (requested) stop(requested);
    else onSignal = stop;
  });
}

/**
 * `turnpike pki rotate [--ca] [--jwt]`: re-issues the provisioner link's leaf
 * certificates (and, asked for, the CA and the call-token key). Nothing picks
 * the new files up by itself: the output says what to copy and restart.
 */
export async function runPkiRotate(loaded: LoadedConfig, args: string[]): Promise<string[]> {
  const [sub, ...flags] = args;
  if (sub !== 'rotate') throw new UsageError('usage: turnpike pki rotate [--ca] [--jwt]');
  const unknown = flags.filter((flag) => flag !== '--ca' && flag !== '--jwt');
  if (unknown.length > 0)
    throw new UsageError(`unknown option ${unknown.join(' ')}; usage: turnpike pki rotate [--ca] [--jwt]`);
  const ca = flags.includes('--ca');
  const jwt = flags.includes('--jwt');
  const dir = tlsDirOf({ ...loaded.config, dataDir: resolve(loaded.config.dataDir) });
  const hasCa = await stat(join(dir, PKI_FILES.caKey)).then(
    () => true,
    () => false,
  );
  if (!ca && !hasCa) throw new UsageError(`no CA in ${dir}: run turnpike init first, or rotate with --ca`);
  await rotatePki({ dir, ca, jwt });

  const replaced: string[] = [
    ...(ca ? [PKI_FILES.caCert, PKI_FILES.caKey] : []),
    PKI_FILES.serverCert,
    PKI_FILES.serverKey,
    PKI_FILES.clientCert,
    PKI_FILES.clientKey,
    ...(jwt ? [PKI_FILES.jwtPrivate, PKI_FILES.jwtPublic] : []),
  ];
  const server = new X509Certificate(await readFile(join(dir, PKI_FILES.serverCert)));
  const lines = [
    `PKI in ${dir}`,
    `replaced: ${replaced.join(', ')}`,
    `server certificate valid until ${new Date(server.validTo).toISOString()} for ${server.subjectAltName ?? ''}`,
  ];
  if (ca) {
    lines.push(
      `new CA fingerprint (SHA-256): ${new X509Certificate(await readFile(join(dir, PKI_FILES.caCert))).fingerprint256}`,
      'install the new ca.pem, server.pem, server-key.pem and jwt-public.pem on every provisioner host;',
      'until both ends have the new CA, provisioner calls fail and the reconcile loop retries.',
    );
  } else {
    lines.push('copy server.pem and server-key.pem to every provisioner host (same CA, so order does not matter).');
  }
  if (jwt && !ca) lines.push('copy jwt-public.pem to every provisioner host: it verifies call tokens with it.');
  lines.push(
    'restart the provisioner now, then the appliance: neither reloads these files while running',
    '(see provisioner/README.md, "Rotation").',
  );
  return lines;
}
