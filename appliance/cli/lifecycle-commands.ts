import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { isTurnpikeError } from '../errors.js';
import { backupStore, restoreStore } from '../store/lowdb-store.js';
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
  await backupStore(resolve(loaded.config.dataDir), resolve(target));
  return [`store backed up to ${resolve(target)}`];
}

export async function runRestore(loaded: LoadedConfig, args: string[]): Promise<string[]> {
  const [source] = args;
  if (!source) throw new UsageError('usage: turnpike restore FILE');
  await restoreStore(resolve(loaded.config.dataDir), resolve(source));
  return [`store restored from ${resolve(source)}; start the appliance to use it`];
}

export async function runInit(loaded: LoadedConfig, args: string[], configFile: string | undefined): Promise<string[]> {
  const { flags } = parseFlags(args, ['data-dir', 'admin-email', 'public-url']);
  return initAppliance({
    loaded,
    configFile: configFile ?? loaded.source ?? '/etc/turnpike/turnpike.json',
    ...(flags['data-dir'] !== undefined ? { dataDir: flags['data-dir'] } : {}),
    ...(flags['admin-email'] !== undefined ? { adminEmail: flags['admin-email'] } : {}),
    ...(flags['public-url'] !== undefined ? { publicUrl: flags['public-url'] } : {}),
  });
}

/** Runs until SIGINT/SIGTERM, then stops every door and flushes the store. */
export async function runStart(
  loaded: LoadedConfig,
  options: { embedded: boolean; adminSocket: string },
): Promise<void> {
  const appliance = await startAppliance({
    config: loaded.config,
    configSource: loaded.source,
    embedded: options.embedded,
    adminSocket: options.adminSocket,
    out: (line) => process.stdout.write(`${line}\n`),
  });
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void appliance.stop().then(resolveStop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
