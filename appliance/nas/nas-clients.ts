import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Db, Dialect, NasClient } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';
import { auditIn, SYSTEM, type Actor } from '../accounts/audit.js';
import { addressBytes, parseAddressRange, rangeContains, type AddressRange } from './address-match.js';

export const DIALECTS: readonly Dialect[] = ['coovachilli', 'mikrotik', 'generic'];
export const DEFAULT_COA_PORT = 3799;
const MIN_SECRET_LENGTH = 8;

export interface NasClientInput {
  name: string;
  /** Address or CIDR, IPv4 or IPv6. */
  source: string;
  /** Omit to have a strong random secret generated (returned once in the result). */
  secret?: string;
  dialect?: Dialect;
  coaPort?: number;
  requireMessageAuthenticator?: boolean;
  /** CoovaChilli's `uamsecret`, when the NAS is configured with one; omit when it is not. */
  uamSecret?: string;
}

function invalid(message: string, field: string): TurnpikeError {
  return new TurnpikeError('TP_ERR_VALIDATION', message, { field });
}

function assertInput(input: NasClientInput): void {
  if (typeof input.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(input.name)) {
    throw invalid('name: 1–63 letters, digits, dot, dash or underscore', 'name');
  }
  if (typeof input.source !== 'string' || !parseAddressRange(input.source)) {
    throw invalid(`source: "${String(input.source)}" is not an IPv4/IPv6 address or CIDR`, 'source');
  }
  if (input.secret !== undefined && (typeof input.secret !== 'string' || input.secret.length < MIN_SECRET_LENGTH)) {
    throw invalid(`secret: at least ${MIN_SECRET_LENGTH} characters`, 'secret');
  }
  if (input.dialect !== undefined && !DIALECTS.includes(input.dialect)) {
    throw invalid(`dialect: one of ${DIALECTS.join(', ')}`, 'dialect');
  }
  if (input.coaPort !== undefined && (!Number.isInteger(input.coaPort) || input.coaPort < 1 || input.coaPort > 65535)) {
    throw invalid('coaPort: an integer 1–65535', 'coaPort');
  }
  if (
    input.uamSecret !== undefined &&
    (typeof input.uamSecret !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(input.uamSecret))
  ) {
    throw invalid('uamSecret: 1–128 printable characters without spaces', 'uamSecret');
  }
}

/** Canonical text of a source so that `10.0.0.1` and `10.0.0.1/32` count as the same client. */
function sourceKey(source: string): string {
  const range = parseAddressRange(source)!;
  return `${range.bytes.toString('hex')}/${range.prefix}`;
}

/** What the audit log keeps of a NAS: everything but its secrets. */
export function auditedNas(client: NasClient) {
  return {
    name: client.name,
    source: client.source,
    dialect: client.dialect,
    coaPort: client.coaPort,
    requireMessageAuthenticator: client.requireMessageAuthenticator,
  };
}

/** Registers a NAS. The result carries the shared secret: show it once to the operator. */
export async function addNasClient(
  store: Store,
  clock: Clock,
  input: NasClientInput,
  actor: Actor = SYSTEM,
): Promise<NasClient> {
  assertInput(input);
  const client: NasClient = {
    id: randomUUID(),
    name: input.name,
    source: input.source.trim(),
    secret: input.secret ?? randomBytes(18).toString('base64url'),
    dialect: input.dialect ?? 'generic',
    coaPort: input.coaPort ?? DEFAULT_COA_PORT,
    requireMessageAuthenticator: input.requireMessageAuthenticator ?? true,
    ...(input.uamSecret !== undefined ? { uamSecret: input.uamSecret } : {}),
    createdAt: clock.now(),
  };
  const key = sourceKey(client.source);
  await store.update((db, histories) => {
    for (const existing of Object.values(db.nasClients)) {
      if (existing.name === client.name)
        throw new TurnpikeError('TP_ERR_CONFLICT', `a NAS named ${client.name} exists`);
      if (sourceKey(existing.source) === key) {
        throw new TurnpikeError('TP_ERR_CONFLICT', `NAS ${existing.name} already uses source ${existing.source}`);
      }
    }
    db.nasClients[client.id] = client;
    auditIn(histories, client.createdAt, actor, { action: 'nas.added', target: client.id, after: auditedNas(client) });
  });
  return client;
}

/** Changes a NAS's settings; a `secret` replaces the shared secret (the NAS must be given it too). */
export async function updateNasClient(
  store: Store,
  clock: Clock,
  id: string,
  patch: Partial<Omit<NasClientInput, 'uamSecret'>>,
  actor: Actor = SYSTEM,
): Promise<{ before: NasClient; after: NasClient }> {
  return store.update((db, histories) => {
    const before = db.nasClients[id];
    if (!before) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no NAS client ${id}`);
    const merged: NasClientInput = {
      name: patch.name ?? before.name,
      source: (patch.source ?? before.source).trim(),
      secret: patch.secret ?? before.secret,
      dialect: patch.dialect ?? before.dialect,
      coaPort: patch.coaPort ?? before.coaPort,
      requireMessageAuthenticator: patch.requireMessageAuthenticator ?? before.requireMessageAuthenticator,
    };
    assertInput(merged);
    const key = sourceKey(merged.source);
    for (const other of Object.values(db.nasClients)) {
      if (other.id === id) continue;
      if (other.name === merged.name) throw new TurnpikeError('TP_ERR_CONFLICT', `a NAS named ${merged.name} exists`);
      if (sourceKey(other.source) === key) {
        throw new TurnpikeError('TP_ERR_CONFLICT', `NAS ${other.name} already uses source ${other.source}`);
      }
    }
    const after: NasClient = { ...before, ...merged, secret: merged.secret! } as NasClient;
    db.nasClients[id] = after;
    auditIn(histories, clock.now(), actor, {
      action: 'nas.updated',
      target: id,
      before: auditedNas(before),
      after: auditedNas(after),
      details: { secretChanged: after.secret !== before.secret },
    });
    return { before: { ...before }, after: { ...after } };
  });
}

/** All NAS clients, by name. Secrets are included; callers that display them must mask. */
export function listNasClients(store: Store): NasClient[] {
  return Object.values(store.db.nasClients).sort((a, b) => a.name.localeCompare(b.name));
}

export async function removeNasClient(
  store: Store,
  clock: Clock,
  idOrName: string,
  actor: Actor = SYSTEM,
): Promise<NasClient> {
  return store.update((db, histories) => {
    const found = Object.values(db.nasClients).find((client) => client.id === idOrName || client.name === idOrName);
    if (!found) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no NAS client ${idOrName}`);
    delete db.nasClients[found.id];
    // What the NAS showed goes with it: a NAS added again under the same id starts afresh.
    if (db.nasTrust?.[found.id]) delete db.nasTrust[found.id];
    auditIn(histories, clock.now(), actor, { action: 'nas.removed', target: found.id, before: auditedNas(found) });
    return found;
  });
}

const parsedRanges = new Map<string, AddressRange | null>();

function rangeOf(source: string): AddressRange | null {
  let range = parsedRanges.get(source);
  if (range === undefined) {
    range = parseAddressRange(source);
    if (parsedRanges.size > 10_000) parsedRanges.clear();
    parsedRanges.set(source, range);
  }
  return range;
}

/** The NAS whose source covers `ip` (v4, v6 or v4-mapped v6); the most specific prefix wins. */
export function findNasClientForAddress(db: Readonly<Db>, ip: string): NasClient | null {
  const address = addressBytes(ip);
  if (!address) return null;
  let best: NasClient | null = null;
  let bestPrefix = -1;
  for (const client of Object.values(db.nasClients)) {
    const range = rangeOf(client.source);
    if (range && range.prefix > bestPrefix && rangeContains(range, address)) {
      best = client;
      bestPrefix = range.prefix;
    }
  }
  return best;
}
