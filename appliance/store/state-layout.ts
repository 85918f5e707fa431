/**
 * How current state divides into rows. A collection (`users`, `payments.invoices`) is a record of
 * rows keyed by id: a change to one user writes that user, never the whole collection. Every other
 * top-level value (settings, signing keys, the schema version) is a document, written whole.
 * A new collection in `Db` belongs in this list; until it is added it is stored as one document,
 * which is correct but costs a rewrite of the whole record per change.
 */
export const COLLECTIONS = [
  'users',
  'refreshTokens',
  'revokedFamilies',
  'oneTimeTokens',
  'plans',
  'subscriptions',
  'voucherBatches',
  'vouchers',
  'devices',
  'freeTierUses',
  'nasClients',
  'portalCredentials',
  'sessions',
  'sequences',
  'leases',
  'attempts',
  'nasTrust',
  'payments.customers',
  'payments.payments',
  'payments.invoices',
  'payments.stripeSync',
  'payments.recurring',
  'reports.usage',
  'reports.guestDays',
  'reports.topGuests',
  'reports.revenue',
  'reports.vouchers',
] as const;

export type CollectionName = (typeof COLLECTIONS)[number];

/** The table that holds documents: each top-level value that is not a collection, by its path. */
export const DOCUMENTS_TABLE = '$documents';

/** Paths whose value is neither a collection nor a document but an object holding more of them. */
export const NAMESPACES: ReadonlySet<string> = new Set(
  COLLECTIONS.flatMap((path) => {
    const parts = path.split('.');
    return parts.slice(0, -1).map((_part, index) => parts.slice(0, index + 1).join('.'));
  }),
);

const COLLECTION_SET: ReadonlySet<string> = new Set(COLLECTIONS);

export type PathKind = 'collection' | 'namespace' | 'document';

export function kindOf(path: string): PathKind {
  if (COLLECTION_SET.has(path)) return 'collection';
  return NAMESPACES.has(path) ? 'namespace' : 'document';
}

export const childPath = (parent: string, key: string): string => (parent === '' ? key : `${parent}.${key}`);

/** Paths split once: every change applied and every collection a mutation opens looks one up. */
const KEYS = new Map<string, readonly string[]>();

function keysOf(path: string): readonly string[] {
  let keys = KEYS.get(path);
  if (!keys) {
    // Paths come from the fixed layout; the bound only guards against a caller inventing them.
    if (KEYS.size >= 1024) KEYS.clear();
    KEYS.set(path, (keys = path.split('.')));
  }
  return keys;
}

/** The object at `path` (dot-separated) inside `root`, or undefined. */
export function valueAt(root: object, path: string): unknown {
  let value: unknown = root;
  for (const key of keysOf(path)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Sets the value at `path`, creating namespaces on the way; `undefined` deletes it. */
export function setValueAt(root: object, path: string, value: unknown): void {
  const keys = path.split('.');
  let parent = root as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    if (typeof parent[key] !== 'object' || parent[key] === null) parent[key] = {};
    parent = parent[key] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
}
