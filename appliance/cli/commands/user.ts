import { ROLES, type Role } from '../../domain/model.js';
import { parseFlags, UsageError, type StoreCommand } from '../command.js';

function asRole(raw: string | undefined): Role {
  if (!raw || !(ROLES as readonly string[]).includes(raw))
    throw new UsageError(`role must be one of ${ROLES.join(', ')}`);
  return raw as Role;
}

const addUser: StoreCommand = {
  kind: 'store',
  path: ['user', 'add'],
  usage: 'user add EMAIL [--role R] [--name N]',
  summary: 'create an account; prints a one-time password',
  mutates: true,
  async run({ services }, args) {
    const { flags, positionals } = parseFlags(args, ['role', 'name']);
    const [email] = positionals;
    if (!email) throw new UsageError(`usage: turnpike ${this.usage}`);
    const created = await services.accounts.users.createUser(
      { email, role: asRole(flags.role ?? 'guest'), ...(flags.name !== undefined ? { displayName: flags.name } : {}) },
      null,
    );
    const lines = [`created ${created.user.email} (${created.user.role}, id ${created.user.id})`];
    if (created.oneTimePassword) {
      lines.push(`one-time password: ${created.oneTimePassword}  (shown once; it must be changed at first sign-in)`);
    }
    return lines;
  },
};

const listUsers: StoreCommand = {
  kind: 'store',
  path: ['user', 'list'],
  usage: 'user list [--role R]',
  summary: 'list accounts',
  mutates: false,
  async run({ services }, args) {
    const { flags } = parseFlags(args, ['role']);
    const { users, total } = services.accounts.users.listUsers({
      ...(flags.role !== undefined ? { role: asRole(flags.role) } : {}),
      limit: 10_000,
    });
    if (total === 0) return ['no accounts'];
    return users.map(
      (user) =>
        `${user.email.padEnd(32)} ${user.role.padEnd(9)} ${user.disabled ? 'disabled' : 'enabled '} mfa:${user.mfaEnabled ? 'on ' : 'off'} ${user.id}`,
    );
  },
};

const setRole: StoreCommand = {
  kind: 'store',
  path: ['user', 'set-role'],
  usage: 'user set-role EMAIL ROLE',
  summary: "change an account's role",
  mutates: true,
  async run({ services }, args) {
    const [email, role] = args;
    if (!email || !role) throw new UsageError(`usage: turnpike ${this.usage}`);
    const user = await services.accounts.users.setRole(email, asRole(role));
    return [`${user.email} is now ${user.role}`];
  },
};

const disableUser: StoreCommand = {
  kind: 'store',
  path: ['user', 'disable'],
  usage: 'user disable EMAIL',
  summary: 'disable an account (its sessions end)',
  mutates: true,
  async run({ services }, args) {
    const [email] = args;
    if (!email) throw new UsageError(`usage: turnpike ${this.usage}`);
    const user = await services.accounts.users.setDisabled(email, true);
    return [`${user.email} is disabled`];
  },
};

export const USER_COMMANDS: StoreCommand[] = [addUser, listUsers, setRole, disableUser];
