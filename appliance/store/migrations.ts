import type { Db } from '../domain/model.js';
import { emptyPaymentsState } from '../payments/model.js';
import { emptyReportsState } from '../reports/model.js';

/**
 * Ordered schema migrations. Each one takes the document at `version - 1`
 * and returns it at `version`. Never edit a released migration; add one.
 */
export interface Migration {
  version: number;
  description: string;
  up(doc: Record<string, unknown>): Record<string, unknown>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema',
    up: (doc) => ({ ...emptyDbV1(), ...doc, schemaVersion: 1 }),
  },
  {
    version: 2,
    description: 'payments: customers, payments, invoices, provider sync',
    up: (doc) => ({ payments: emptyPaymentsState(), ...doc, schemaVersion: 2 }),
  },
  {
    version: 3,
    description: 'journal checkpoints: how far each journaled history is reflected in db.json',
    up: (doc) => ({ journalCheckpoints: {}, ...doc, schemaVersion: 3 }),
  },
  {
    version: 4,
    description: 'users: SSH public keys',
    up: (doc) => ({ ...doc, users: withSshKeys(doc.users), schemaVersion: 4 }),
  },
  {
    version: 5,
    description: 'write-ahead log: db.json is a checkpoint stamped with its last change record',
    up: ({ journalCheckpoints: _journalCheckpoints, ...doc }) => ({ ...doc, schemaVersion: 5 }),
  },
  {
    version: 6,
    description: 'shared between appliances: revoked refresh-token families and leases',
    up: (doc) => ({
      revokedFamilies: revokedFamiliesOf(doc.refreshTokens),
      leases: {},
      ...doc,
      schemaVersion: 6,
    }),
  },
  {
    version: 7,
    description: 'usage periods: plans may reset their quota daily, weekly or monthly in the venue time zone',
    up: (doc) => ({
      ...doc,
      plans: mapRows(doc.plans, (plan) => ({ usagePeriod: null, ...plan })),
      subscriptions: mapRows(doc.subscriptions, (sub) => ({ usagePeriodStartedAt: sub.startedAt ?? 0, ...sub })),
      settings: { timeZone: 'UTC', ...(doc.settings as Record<string, unknown>) },
      schemaVersion: 7,
    }),
  },
  {
    version: 8,
    description:
      'reports: daily rollups of usage, revenue and voucher redemptions (turnpike reports rebuild fills them)',
    up: (doc) => ({ reports: emptyReportsState(), ...doc, schemaVersion: 8 }),
  },
];

function mapRows(
  rows: unknown,
  map: (row: Record<string, unknown>) => Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, row] of Object.entries((rows ?? {}) as Record<string, Record<string, unknown>>)) out[id] = map(row);
  return out;
}

/** A family with a revoked token stays revoked until its last token expires. */
function revokedFamiliesOf(tokens: unknown): Record<string, unknown> {
  const out: Record<string, { familyId: string; revokedAt: number; expiresAt: number }> = {};
  for (const token of Object.values((tokens ?? {}) as Record<string, Record<string, unknown>>)) {
    const { familyId, revokedAt, expiresAt } = token;
    if (typeof familyId !== 'string' || typeof revokedAt !== 'number' || typeof expiresAt !== 'number') continue;
    const known = out[familyId];
    out[familyId] = {
      familyId,
      revokedAt: Math.min(revokedAt, known?.revokedAt ?? revokedAt),
      expiresAt: Math.max(expiresAt, known?.expiresAt ?? expiresAt),
    };
  }
  return out;
}

function withSshKeys(users: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, user] of Object.entries((users ?? {}) as Record<string, Record<string, unknown>>)) {
    out[id] = { sshKeys: [], ...user };
  }
  return out;
}

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

function emptyDbV1(): Record<string, unknown> {
  return {
    users: {},
    refreshTokens: {},
    oneTimeTokens: {},
    signingKeys: [],
    plans: {},
    subscriptions: {},
    voucherBatches: {},
    vouchers: {},
    devices: {},
    freeTierUses: {},
    nasClients: {},
    portalCredentials: {},
    sessions: {},
    settings: {
      venueName: 'Turnpike Wi-Fi',
      logoUrl: null,
      primaryColor: '#0b5cad',
      accentColor: '#f2a900',
      welcomeText: { en: 'Welcome! Choose a plan to get online.', de: 'Willkommen! Wählen Sie einen Tarif.' },
      termsText: {
        en: 'Use this network lawfully and fairly. We log session times and data volumes.',
        de: 'Nutzen Sie dieses Netz rechtmäßig und fair. Wir speichern Sitzungszeiten und Datenmengen.',
      },
      supportContact: 'the front desk',
      seller: { name: 'Turnpike Operator', address: '', taxId: '', taxRatePercent: 0 },
    },
    sequences: {},
  };
}

export class MigrationError extends Error {}

/** Brings a parsed document up to the latest schema; refuses one from the future. */
export function migrate(doc: Record<string, unknown>): { db: Db; applied: number[] } {
  const from = typeof doc.schemaVersion === 'number' ? doc.schemaVersion : 0;
  if (from > LATEST_SCHEMA_VERSION) {
    throw new MigrationError(
      `schema version ${from} is newer than this Turnpike understands (${LATEST_SCHEMA_VERSION}); upgrade Turnpike`,
    );
  }
  const applied: number[] = [];
  let current = doc;
  for (const migration of MIGRATIONS) {
    if (migration.version <= from) continue;
    current = migration.up(current);
    current.schemaVersion = migration.version;
    applied.push(migration.version);
  }
  return { db: current as unknown as Db, applied };
}

export function emptyDb(): Db {
  return migrate({}).db;
}
