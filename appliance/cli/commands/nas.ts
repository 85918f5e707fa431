import type { Dialect } from '../../domain/model.js';
import { addNasClient, DIALECTS, listNasClients, removeNasClient } from '../../nas/nas-clients.js';
import { parseFlags, UsageError, type StoreCommand } from '../command.js';

const addNas: StoreCommand = {
  kind: 'store',
  path: ['nas', 'add'],
  usage:
    'nas add NAME SOURCE [--secret S] [--dialect D] [--coa-port P] [--uam-secret S] [--no-message-authenticator yes]',
  summary: 'register a NAS client (prints its shared secret)',
  mutates: true,
  async run({ store, clock }, args) {
    const { flags, positionals } = parseFlags(args, [
      'secret',
      'dialect',
      'coa-port',
      'uam-secret',
      'no-message-authenticator',
    ]);
    const [name, source] = positionals;
    if (!name || !source) throw new UsageError(`usage: turnpike ${this.usage}`);
    const dialect = flags.dialect as Dialect | undefined;
    if (dialect !== undefined && !DIALECTS.includes(dialect))
      throw new UsageError(`--dialect: one of ${DIALECTS.join(', ')}`);
    const client = await addNasClient(store, clock, {
      name,
      source,
      ...(flags.secret !== undefined ? { secret: flags.secret } : {}),
      ...(dialect !== undefined ? { dialect } : {}),
      ...(flags['coa-port'] !== undefined ? { coaPort: Number(flags['coa-port']) } : {}),
      ...(flags['uam-secret'] !== undefined ? { uamSecret: flags['uam-secret'] } : {}),
      requireMessageAuthenticator: flags['no-message-authenticator'] !== 'yes',
    });
    return [
      `NAS ${client.name} added for ${client.source} (${client.dialect}, CoA port ${client.coaPort}, uam-secret:${client.uamSecret ? 'set' : 'none'})`,
      `shared secret: ${client.secret}`,
    ];
  },
};

const listNas: StoreCommand = {
  kind: 'store',
  path: ['nas', 'list'],
  usage: 'nas list',
  summary: 'list NAS clients',
  mutates: false,
  async run({ store }) {
    const clients = listNasClients(store);
    if (clients.length === 0) return ['no NAS clients; add one with: turnpike nas add NAME SOURCE'];
    return clients.map(
      (client) =>
        `${client.name.padEnd(20)} ${client.source.padEnd(20)} ${client.dialect.padEnd(12)} coa:${client.coaPort} message-authenticator:${client.requireMessageAuthenticator ? 'required' : 'optional'} uam-secret:${client.uamSecret ? 'set' : 'none'}`,
    );
  },
};

const removeNas: StoreCommand = {
  kind: 'store',
  path: ['nas', 'remove'],
  usage: 'nas remove NAME',
  summary: 'remove a NAS client',
  mutates: true,
  async run({ store, clock }, args) {
    const [name] = args;
    if (!name) throw new UsageError(`usage: turnpike ${this.usage}`);
    const removed = await removeNasClient(store, clock, name);
    return [`NAS ${removed.name} removed`];
  },
};

export const NAS_COMMANDS: StoreCommand[] = [addNas, listNas, removeNas];
