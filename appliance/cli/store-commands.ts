import type { StoreCommand } from './command.js';
import { DHCP_OPTION_COMMANDS } from './commands/dhcp-option.js';
import { NAS_COMMANDS } from './commands/nas.js';
import { PLAN_COMMANDS } from './commands/plan.js';
import { REPORTS_COMMANDS } from './commands/reports.js';
import { USER_COMMANDS } from './commands/user.js';
import { VOUCHER_COMMANDS } from './commands/voucher.js';

/** Every command that reads or changes the store, in help order. */
export const STORE_COMMANDS: readonly StoreCommand[] = [
  ...USER_COMMANDS,
  ...PLAN_COMMANDS,
  ...VOUCHER_COMMANDS,
  ...NAS_COMMANDS,
  ...DHCP_OPTION_COMMANDS,
  ...REPORTS_COMMANDS,
];

/** Finds the longest command path that prefixes `argv`. */
export function findStoreCommand(argv: string[]): { command: StoreCommand; args: string[] } | null {
  const matches = STORE_COMMANDS.filter((command) => command.path.every((part, i) => argv[i] === part));
  matches.sort((a, b) => b.path.length - a.path.length);
  const command = matches[0];
  return command ? { command, args: argv.slice(command.path.length) } : null;
}
