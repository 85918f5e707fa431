import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { ApplianceServices } from '../services.js';
import type { Store } from '../store/store.js';

/** What a command that works on the store receives, in the CLI or inside the running appliance. */
export interface CommandContext {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  services: ApplianceServices;
}

export interface StoreCommand {
  kind: 'store';
  /** e.g. ['user', 'add'] */
  path: string[];
  usage: string;
  summary: string;
  /** Changes state: runs inside the appliance when it is running. */
  mutates: boolean;
  run(context: CommandContext, args: string[]): Promise<string[]>;
}

export class UsageError extends Error {}

/** Splits `--flag value` pairs and positionals; unknown flags are usage errors. */
export function parseFlags(
  args: string[],
  known: readonly string[],
): { flags: Record<string, string>; positionals: string[] } {
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (!known.includes(name))
      throw new UsageError(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(', ') || 'none'})`);
    const value = inline ?? args[i + 1];
    if (value === undefined || (inline === undefined && value.startsWith('--')))
      throw new UsageError(`--${name} needs a value`);
    if (inline === undefined) i += 1;
    flags[name] = value;
  }
  return { flags, positionals };
}
