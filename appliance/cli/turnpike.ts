#!/usr/bin/env node
/**
 * The `turnpike` command. Read-only and offline commands run here; commands
 * that change the store run inside the appliance when it is running (through
 * its admin socket), so the store keeps a single writer.
 */
import { join, resolve } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { loadConfig, SYSTEM_CONFIG_FILE, type LoadedConfig } from '../config/load-config.js';
import { backupBeforeMigration } from '../backups/store-backups.js';
import { isTurnpikeError, TurnpikeError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { systemClock } from '../../shared/clock.js';
import { openConfiguredStore } from '../open-store.js';
import { storeOwnerPid } from '../store/lowdb-store.js';
import { createServices } from '../services.js';
import { sendAdminCommand } from './admin-socket.js';
import { UsageError, type StoreCommand } from './command.js';
import { commandHere } from './command-here.js';
import { STORE_COMMANDS, findStoreCommand } from './store-commands.js';
import { runBackup, runConfigCheck, runInit, runPkiRotate, runRestore, runStart } from './lifecycle-commands.js';
import { DB_USAGE, runDb } from './db-commands.js';

const USAGE_WIDTH = 30;

/** A usage too long for its column gets a line of its own, so it never runs into its summary. */
function helpLine(usage: string, summary: string): string {
  return usage.length < USAGE_WIDTH - 1
    ? `  ${usage.padEnd(USAGE_WIDTH)}${summary}`
    : `  ${usage}\n  ${' '.repeat(USAGE_WIDTH)}${summary}`;
}

const HELP = `turnpike — captive-portal access gateway

Usage: turnpike [--config FILE] [--embedded] COMMAND

Lifecycle:
  start                         run the appliance (portal, RADIUS, provisioner client)
  init [--data-dir DIR]         write a config, secrets and certificates; create the first admin
  config check [FILE]           validate a configuration file and print the result
  backup FILE                   write a consistent copy of the store to FILE
  restore FILE                  replace the store with FILE (appliance stopped)
  pki rotate [--ca] [--jwt]     re-issue the provisioner link's certificates (and CA, call-token key)

Database:
${DB_USAGE.map(([usage, summary]) => helpLine(usage, summary)).join('\n')}
  (STORE: the configured one, or --driver lowdb --data-dir DIR, or --driver postgres --url URL)

State (sent to the running appliance when it runs):
${STORE_COMMANDS.map((command) => helpLine(command.usage, command.summary)).join('\n')}

Options:
  --config FILE   configuration file (else $TURNPIKE_CONFIG, else /etc/turnpike/turnpike.json)
  --embedded      use the embedded default (./var, loopback, demo catalogue)
`;

export function adminSocketPath(loaded: LoadedConfig): string {
  return loaded.config.adminSocket || join(resolve(loaded.config.dataDir), 'admin.sock');
}

/** A store lives in `dir` (its checkpoint, or a write-ahead log not yet checkpointed). */
function hasStore(dir: string): boolean {
  return (
    existsSync(join(dir, 'db.json')) || (existsSync(dir) && readdirSync(dir).some((name) => name.startsWith('wal.')))
  );
}

async function runStoreCommand(
  command: StoreCommand,
  args: string[],
  loaded: LoadedConfig,
  embedded: boolean,
): Promise<string[]> {
  const dir = resolve(loaded.config.dataDir);
  const owner = await storeOwnerPid(dir);
  // While the appliance runs, even reads go through it: it holds the latest state.
  if (owner !== null && owner !== process.pid) return forward(loaded, [...command.path, ...args]);
  // PostgreSQL takes several writers: the command writes there itself, appliances running or not.
  const postgres = loaded.config.store.driver === 'postgres';
  // A command that only reads never creates a store: an empty one would answer as if all were well.
  if (!postgres && !command.mutates && !hasStore(dir)) {
    throw new TurnpikeError(
      'TP_ERR_CONFIG',
      `there is no store in ${dir} (dataDir of ${loaded.source ?? 'the built-in defaults'}); nothing was created. ` +
        `Set this box up with: ${commandHere({ embedded: false })} init${embedded ? '' : `, or reach the embedded default's ./var store with: ${commandHere({ embedded: true })} ${[...command.path, ...args].join(' ')}`}`,
    );
  }
  if (!postgres) await backupBeforeMigration(dir, loaded.config.backup, new Date(systemClock.now()));
  const logger = createLogger({ level: 'warn' });
  const store = await openConfiguredStore(loaded.config, logger);
  try {
    const services = await createServices({ config: loaded.config, store, clock: systemClock, logger });
    return await command.run({ config: loaded.config, store, clock: systemClock, logger, services }, args);
  } finally {
    await store.close();
  }
}

async function forward(loaded: LoadedConfig, argv: string[]): Promise<string[]> {
  const response = await sendAdminCommand(adminSocketPath(loaded), argv);
  if (!response.ok) throw new UsageError(response.error ?? 'the running appliance refused the command');
  return response.lines;
}

/**
 * Without `--embedded`, a command needs a configuration (a file, or TURNPIKE_DATA_DIR): the
 * built-in defaults alone would quietly open a store in /var/lib/turnpike. Says where it looked
 * and what to run instead.
 */
function assertConfigured(loaded: LoadedConfig, embedded: boolean, command: readonly string[]): void {
  if (embedded || loaded.source !== null || process.env.TURNPIKE_DATA_DIR) return;
  throw new TurnpikeError(
    'TP_ERR_CONFIG',
    `no configuration found: looked for ${SYSTEM_CONFIG_FILE} (name another with --config FILE or TURNPIKE_CONFIG).\n` +
      `  Set this box up with: ${commandHere({ embedded: false })} init\n` +
      `  Or use the embedded default's store in ./var (the one npm start runs): ${commandHere({ embedded: true })} ${command.join(' ')}`,
  );
}

async function main(argv: string[]): Promise<number> {
  const globals: { config?: string; embedded: boolean } = { embedded: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--config') globals.config = argv[++i];
    else if (arg.startsWith('--config=')) globals.config = arg.slice('--config='.length);
    else if (arg === '--embedded') globals.embedded = true;
    else rest.push(arg);
  }
  const [name, ...args] = rest;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  const print = (lines: string[]): void => {
    for (const line of lines) process.stdout.write(`${line}\n`);
  };

  if (name === 'config' && args[0] === 'check') {
    const result = runConfigCheck(args[1] ?? globals.config, globals.embedded);
    print(result.lines);
    return result.ok ? 0 : 1;
  }
  if (name === 'init') {
    // init writes the config file it is pointed at, so that file may not exist yet.
    const target = globals.config ?? (process.env.TURNPIKE_CONFIG || SYSTEM_CONFIG_FILE);
    const loaded = existsSync(target)
      ? loadConfig({ file: target, embedded: globals.embedded })
      : loadConfig({ env: { ...process.env, TURNPIKE_CONFIG: '' }, embedded: globals.embedded });
    print(await runInit(loaded, args, target));
    return 0;
  }
  const loaded = loadConfig({ file: globals.config, embedded: globals.embedded });
  assertConfigured(loaded, globals.embedded, rest);
  switch (name) {
    case 'start':
      await runStart(loaded, { embedded: globals.embedded, adminSocket: adminSocketPath(loaded) });
      return 0;
    case 'backup':
      print(await runBackup(loaded, args));
      return 0;
    case 'restore':
      print(await runRestore(loaded, args));
      return 0;
    case 'pki':
      print(await runPkiRotate(loaded, args));
      return 0;
    case 'db':
      print(await runDb(loaded, args));
      return 0;
    default: {
      const found = findStoreCommand([name, ...args]);
      if (!found) throw new UsageError(`unknown command "${[name, ...args].join(' ')}"; see turnpike help`);
      print(await runStoreCommand(found.command, found.args, loaded, globals.embedded));
      return 0;
    }
  }
}

/** The store names `turnpike restore` in its corruption message: the command that works here instead. */
function adviceHere(message: string): string {
  const here = commandHere({ embedded: process.argv.slice(2).includes('--embedded') });
  return here === 'turnpike' ? message : message.replaceAll('turnpike restore', `${here} restore`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || isTurnpikeError(err)) {
      process.stderr.write(
        `turnpike: ${isTurnpikeError(err, 'TP_ERR_STORE_CORRUPT') ? adviceHere(err.message) : err.message}\n`,
      );
      process.exitCode = err instanceof UsageError ? 2 : 1;
      return;
    }
    process.stderr.write(
      `turnpike: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 70;
  },
);
