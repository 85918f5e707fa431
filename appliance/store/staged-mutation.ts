import {
  createDraft,
  current,
  finishDraft,
  isDraft,
  isDraftable,
  isModified,
  original,
  setAutoFreeze,
  type Draft,
} from 'immer';
import type { RowChange } from './change-record.js';
import type { HistoryLine, HistoryName, HistoryWriter } from './store.js';
import { childPath, DOCUMENTS_TABLE, kindOf, valueAt, type PathKind } from './state-layout.js';

// Rows leave a mutation as plain objects that readers share; freezing them would turn a stray
// write outside `update` from a lost change into a crash in code paths no test reaches.
setAutoFreeze(false);

/** What a mutation returned, which rows it changed and what it adds to histories; nothing is written yet. */
export interface StagedMutation<T> {
  result: T;
  changes: RowChange[];
  histories: HistoryLine[];
}

/**
 * Runs `mutate` against a view of `state` that records what it changes instead of changing it.
 * Each row the mutation reaches is an immer draft of its own, so a write costs the rows it
 * touches, however many rows a collection holds (immer drafting the whole tree copies every
 * collection it enters: 59 ms per write at 100,000 users). When `mutate` throws, nothing was
 * changed. `applyChanges` then makes the staged changes current.
 */
export function stageMutation<S extends object, T>(
  state: S,
  mutate: (draft: S, histories: HistoryWriter) => T,
): StagedMutation<T> {
  const transaction = new Transaction(state);
  const histories = new StagedHistories(transaction);
  try {
    const result = materialize(mutate(transaction.namespace('') as S, histories), transaction);
    // Records may quote the mutation's drafts (a closed session): settle them like the result.
    const settled = histories.lines.map(({ name, line }) => ({ name, line: materialize(line, transaction) }));
    return { result, changes: transaction.finish(), histories: settled };
  } finally {
    transaction.close();
  }
}

/** The history lines a mutation adds (a class: an object literal with a closure per mutation cost more). */
class StagedHistories implements HistoryWriter {
  readonly lines: HistoryLine[] = [];
  readonly #transaction: Transaction;

  constructor(transaction: Transaction) {
    this.#transaction = transaction;
  }

  append(name: HistoryName, line: object): void {
    this.#transaction.assertOpen();
    this.lines.push({ name, line });
  }
}

const PEEK = Symbol('peek-row');

/**
 * A collection's row as it stands, without drafting it: for a mutation that replaces the row whole
 * rather than changing it in place (reading a row through the collection drafts it, a proxy per
 * object reached). Inside a mutation it sees the mutation's own writes; on plain state it is an
 * ordinary read. The value must not be changed in place.
 */
export function peekRow<T>(rows: Readonly<Record<string, T>>, id: string): T | undefined {
  const overlay = (rows as { [PEEK]?: CollectionOverlay })[PEEK];
  if (overlay) return overlay.peekRow(id) as T | undefined;
  return Object.hasOwn(rows, id) ? rows[id] : undefined;
}

/** A document (`settings`) as it stands, without drafting it: `peekRow` for a value that is read only. */
export function peekDocument<S extends object, K extends keyof S & string>(namespace: S, key: K): Readonly<S[K]> {
  const view = (namespace as { [PEEK]?: NamespaceView })[PEEK];
  return view ? (view.peekDocument(key) as S[K]) : namespace[key];
}

/**
 * A collection's row to change, as a copy written back in its place (null when there is none): a
 * mutation that sets a few top-level fields pays for a spread rather than a draft. Nested values
 * are shared with the row as it was; replace them, never change them in place.
 */
export function rowToChange<T extends object>(rows: Record<string, T>, id: string): T | null {
  const row = peekRow(rows, id);
  if (row === undefined) return null;
  const copy = { ...row };
  rows[id] = copy;
  return copy;
}

const DELETED = Symbol('deleted');
type Staged = unknown | typeof DELETED;

/** A key's full path and kind under a parent path; the layout is fixed, so each is worked out once. */
const CHILDREN = new Map<string, Map<string, { path: string; kind: PathKind }>>();

function childOf(parent: string, key: string): { path: string; kind: PathKind } {
  let children = CHILDREN.get(parent);
  if (!children) CHILDREN.set(parent, (children = new Map()));
  let child = children.get(key);
  if (!child) {
    const path = childPath(parent, key);
    children.set(key, (child = { path, kind: kindOf(path) }));
  }
  return child;
}

/**
 * One mutation's view of current state. Its proxies share handler objects (no closures per
 * mutation): a write path taken thousands of times a second allocates only what it changes.
 */
class Transaction {
  readonly #state: object;
  readonly #namespaces = new Map<string, object>();
  readonly #bases = new Map<string, Record<string, unknown>>();
  readonly #collections = new Map<string, CollectionOverlay>();
  /** Per document path: its draft, or the value the mutation assigned (DELETED when removed). */
  readonly documents = new Map<string, { draft: Draft<object> } | { value: Staged }>();
  /** Which collection row each row draft is, so a returned row can be finished instead of copied (made with the first). */
  #rowDrafts: WeakMap<object, { overlay: CollectionOverlay; id: string }> | null = null;
  /** Whether any draft was made: a mutation that only peeked and wrote rows whole has none to settle. */
  drafted = false;
  #closed = false;

  constructor(state: object) {
    this.#state = state;
  }

  namespace(path: string): object {
    let proxy = this.#namespaces.get(path);
    if (!proxy) {
      proxy = new Proxy(new NamespaceView(this, path), NAMESPACE_TRAPS);
      this.#namespaces.set(path, proxy);
    }
    return proxy;
  }

  finish(): RowChange[] {
    const changes: RowChange[] = [];
    for (const overlay of this.#collections.values()) overlay.finish(changes);
    for (const [path, staged] of this.documents) {
      const before = valueAt(this.#state, path);
      if ('draft' in staged && !isModified(staged.draft)) continue;
      const after = 'draft' in staged ? finishDraft(staged.draft) : materialize(staged.value, this);
      if (after === before) continue;
      changes.push({ table: DOCUMENTS_TABLE, id: path, value: after === DELETED ? null : after });
    }
    return changes;
  }

  close(): void {
    this.#closed = true;
  }

  rowDraftCreated(draft: object, overlay: CollectionOverlay, id: string): void {
    this.drafted = true;
    (this.#rowDrafts ??= new WeakMap()).set(draft, { overlay, id });
  }

  isRowDraft(value: object): boolean {
    return this.#rowDrafts?.has(value) ?? false;
  }

  /** A row draft's value once the mutation is over, finished now instead of copied (the mutation cannot change it any more). */
  settledRow(draft: object): unknown {
    const row = this.#rowDrafts!.get(draft)!;
    return row.overlay.settle(row.id, draft);
  }

  assertOpen(): void {
    if (this.#closed) throw new TypeError('a store draft was used after its update finished; copy values out instead');
  }

  /** The live object at `path`, looked up once per mutation: collections change in place, never by identity. */
  base(path: string): Record<string, unknown> {
    let base = this.#bases.get(path);
    if (!base) {
      const value = path === '' ? this.#state : valueAt(this.#state, path);
      base = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
      this.#bases.set(path, base);
    }
    return base;
  }

  collection(path: string): CollectionOverlay {
    let overlay = this.#collections.get(path);
    if (!overlay) {
      overlay = new CollectionOverlay(this, path, this.base(path));
      this.#collections.set(path, overlay);
    }
    return overlay;
  }

  document(path: string, base: Record<string, unknown>, key: string): unknown {
    const staged = this.documents.get(path);
    if (staged) return stagedDocument(staged);
    if (!Object.hasOwn(base, key)) return Reflect.get(base, key);
    const value = base[key];
    if (!isDraftable(value)) return value;
    const draft = createDraft(value as object);
    this.drafted = true;
    this.documents.set(path, { draft });
    return draft;
  }

  /** A document as the mutation sees it, without drafting it. */
  peekDocument(path: string, base: Record<string, unknown>, key: string): unknown {
    const staged = this.documents.get(path);
    return staged ? stagedDocument(staged) : base[key];
  }
}

function stagedDocument(staged: { draft: Draft<object> } | { value: Staged }): unknown {
  if ('draft' in staged) return staged.draft;
  return staged.value === DELETED ? undefined : staged.value;
}

/** The root (or `payments`) as a mutation sees it: collections, nested namespaces and documents. */
class NamespaceView {
  readonly transaction: Transaction;
  readonly path: string;

  constructor(transaction: Transaction, path: string) {
    this.transaction = transaction;
    this.path = path;
  }

  has(key: string): boolean {
    const child = childOf(this.path, key);
    const staged = this.transaction.documents.get(child.path);
    if (staged && 'value' in staged) return staged.value !== DELETED;
    return Object.hasOwn(this.transaction.base(this.path), key) || child.kind !== 'document';
  }

  peekDocument(key: string): unknown {
    this.transaction.assertOpen();
    const child = childOf(this.path, key);
    if (child.kind !== 'document') return this.get(key);
    return this.transaction.peekDocument(child.path, this.transaction.base(this.path), key);
  }

  get(key: string): unknown {
    this.transaction.assertOpen();
    const child = childOf(this.path, key);
    if (child.kind === 'collection') return this.transaction.collection(child.path).proxy;
    if (child.kind === 'namespace') return this.transaction.namespace(child.path);
    return this.transaction.document(child.path, this.transaction.base(this.path), key);
  }

  assign(key: string, value: Staged): boolean {
    this.transaction.assertOpen();
    const child = childOf(this.path, key);
    if (child.kind === 'namespace')
      throw new TypeError(`${child.path} holds collections; change its collections one by one`);
    if (child.kind === 'collection') this.transaction.collection(child.path).replaceAll(value === DELETED ? {} : value);
    else this.transaction.documents.set(child.path, { value });
    return true;
  }

  keys(): string[] {
    const keys = new Set(Object.keys(this.transaction.base(this.path)));
    const prefix = this.path === '' ? '' : `${this.path}.`;
    for (const [docPath, staged] of this.transaction.documents) {
      if (!docPath.startsWith(prefix)) continue;
      const key = docPath.slice(prefix.length);
      if (key.includes('.')) continue;
      if ('value' in staged && staged.value === DELETED) keys.delete(key);
      else keys.add(key);
    }
    return [...keys];
  }
}

const NAMESPACE_TRAPS: ProxyHandler<NamespaceView> = {
  get: (view, key) => {
    if (typeof key === 'string') return view.get(key);
    return key === PEEK ? view : Reflect.get(view.transaction.base(view.path), key);
  },
  set: (view, key, value) => typeof key === 'string' && view.assign(key, value),
  deleteProperty: (view, key) => typeof key === 'string' && view.assign(key, DELETED),
  has: (view, key) => typeof key === 'string' && view.has(key),
  ownKeys: (view) => view.keys(),
  getOwnPropertyDescriptor: (view, key) =>
    typeof key === 'string' && view.has(key)
      ? { value: view.get(key), writable: true, enumerable: true, configurable: true }
      : undefined,
  getPrototypeOf: () => Object.prototype,
};

/** One collection as a mutation sees it: live rows, overlaid with the rows it wrote or drafted. */
class CollectionOverlay {
  readonly proxy: Record<string, unknown>;
  readonly #transaction: Transaction;
  readonly #table: string;
  readonly #base: Record<string, unknown>;
  // Each map is made on first use: a mutation opens several collections, most of them only to
  // peek at a row or write one, and per-mutation maps were a fifth of what an accounting update allocated.
  #writes: Map<string, Staged> | null = null;
  #drafts: Map<string, Draft<object>> | null = null;
  /** Rows whose drafts were finished early (returned by the mutation): their final values. */
  #settled: Map<string, unknown> | null = null;

  static readonly #traps: ProxyHandler<CollectionOverlay> = {
    get: (overlay, key) => {
      if (typeof key === 'symbol') return key === PEEK ? overlay : Reflect.get(overlay.#base, key);
      overlay.#transaction.assertOpen();
      return overlay.#row(key);
    },
    set: (overlay, key, value) => {
      overlay.#transaction.assertOpen();
      if (typeof key !== 'string') return false;
      overlay.#write(key, value);
      return true;
    },
    deleteProperty: (overlay, key) => {
      overlay.#transaction.assertOpen();
      if (typeof key !== 'string') return false;
      overlay.#write(key, DELETED);
      return true;
    },
    has: (overlay, key) => typeof key === 'string' && overlay.#has(key),
    ownKeys: (overlay) => overlay.#keys(),
    // Listing keys (Object.keys, the first step of Object.values) must not draft every row:
    // the descriptor shows the row as it is; reading it through `get` drafts it.
    getOwnPropertyDescriptor: (overlay, key) =>
      typeof key === 'string' && overlay.#has(key)
        ? { value: overlay.#peek(key), writable: true, enumerable: true, configurable: true }
        : undefined,
    getPrototypeOf: () => Object.prototype,
  };

  constructor(transaction: Transaction, table: string, base: Record<string, unknown>) {
    this.#transaction = transaction;
    this.#table = table;
    this.#base = base;
    this.proxy = new Proxy(this, CollectionOverlay.#traps) as unknown as Record<string, unknown>;
  }

  replaceAll(rows: unknown): void {
    const next = (typeof rows === 'object' && rows !== null ? rows : {}) as Record<string, unknown>;
    for (const id of this.#keys()) if (!Object.hasOwn(next, id)) this.#write(id, DELETED);
    for (const [id, value] of Object.entries(next)) this.#write(id, value);
  }

  /**
   * The row's final value, its draft finished now (the mutation has returned). A draft of a row
   * the mutation then deleted or replaced is no longer the row: it is copied out as it was left.
   */
  settle(id: string, draft: object): unknown {
    if (this.#drafts?.get(id) !== draft) return this.#settled?.has(id) ? this.#settled.get(id) : current(draft);
    this.#drafts.delete(id);
    const value = isModified(draft) ? finishDraft(draft) : original(draft);
    (this.#settled ??= new Map()).set(id, value);
    return value;
  }

  finish(changes: RowChange[]): void {
    const base = this.#base;
    const writes = this.#writes;
    // Values written by the mutation may hold drafts of other rows: settle them before the drafts end.
    if (writes && this.#transaction.drafted) {
      for (const [id, value] of writes) writes.set(id, materialize(value, this.#transaction));
    }
    if (this.#drafts) {
      for (const [id, draft] of this.#drafts) {
        // A row the mutation only read: nothing to finish (an unfinished draft is just garbage).
        if (!isModified(draft)) continue;
        const after = finishDraft(draft);
        if (after !== base[id]) changes.push({ table: this.#table, id, value: after });
      }
    }
    if (this.#settled) {
      for (const [id, after] of this.#settled) {
        if (after !== base[id]) changes.push({ table: this.#table, id, value: after });
      }
    }
    if (!writes) return;
    for (const [id, value] of writes) {
      if (value === DELETED) {
        if (Object.hasOwn(base, id)) changes.push({ table: this.#table, id, value: null });
      } else if (value !== base[id]) {
        changes.push({ table: this.#table, id, value });
      }
    }
  }

  #has(id: string): boolean {
    if (this.#writes?.has(id)) return this.#writes.get(id) !== DELETED;
    return Object.hasOwn(this.#base, id);
  }

  /** The row as the mutation would see it, without drafting it (`peekRow`). */
  peekRow(id: string): unknown {
    this.#transaction.assertOpen();
    return this.#has(id) ? this.#peek(id) : undefined;
  }

  #peek(id: string): unknown {
    if (this.#writes?.has(id)) {
      const written = this.#writes.get(id);
      return written === DELETED ? undefined : written;
    }
    return this.#drafts?.get(id) ?? (this.#settled?.has(id) ? this.#settled.get(id) : this.#base[id]);
  }

  #row(id: string): unknown {
    if (this.#writes?.has(id)) {
      const written = this.#writes.get(id);
      return written === DELETED ? undefined : written;
    }
    const drafted = this.#drafts?.get(id);
    if (drafted) return drafted;
    if (this.#settled?.has(id)) return this.#settled.get(id);
    const base = this.#base;
    if (!Object.hasOwn(base, id)) return Reflect.get(base, id);
    const value = base[id];
    if (!isDraftable(value)) return value;
    const draft = createDraft(value as object);
    (this.#drafts ??= new Map()).set(id, draft);
    this.#transaction.rowDraftCreated(draft, this, id);
    return draft;
  }

  #write(id: string, value: Staged): void {
    this.#drafts?.delete(id);
    this.#settled?.delete(id);
    (this.#writes ??= new Map()).set(id, value);
  }

  #keys(): string[] {
    const keys = Object.keys(this.#base);
    const writes = this.#writes;
    if (!writes) return keys;
    const present = keys.filter((id) => writes.get(id) !== DELETED);
    for (const [id, value] of writes) if (value !== DELETED && !Object.hasOwn(this.#base, id)) present.push(id);
    return present;
  }
}

const MAX_DEPTH = 16;

/**
 * Replaces drafts inside a value with plain values, so that what a mutation returns or writes
 * stays readable after its drafts end. Copies only the containers on the way to a draft. Two
 * passes: parts of drafts are copied out first, and only then are whole rows finished (which
 * revokes every draft inside them) and put in place without a copy.
 */
function materialize<T>(value: T, transaction: Transaction): T {
  if (!transaction.drafted) return value;
  // Most values hold no draft at all (rows written whole, history lines): one walk that copies
  // nothing settles them; the two copying passes run only for a value that needs them.
  if (!containsDraft(value, transaction, 0)) return value;
  return replaceDrafts(replaceDrafts(value, transaction, 'parts', 0), transaction, 'rows', 0);
}

/** Whether `replaceDrafts` would find anything to replace in `value` (the same walk, read-only). */
function containsDraft(value: unknown, transaction: Transaction, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (transaction.isRowDraft(value) || isDraft(value)) return true;
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (containsDraft(item, transaction, depth + 1)) return true;
    return false;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) if (containsDraft(record[key], transaction, depth + 1)) return true;
  return false;
}

function replaceDrafts<T>(value: T, transaction: Transaction, pass: 'parts' | 'rows', depth: number): T {
  if (typeof value !== 'object' || value === null) return value;
  // A row draft is looked up before immer is asked anything: once finished it is a revoked proxy.
  if (transaction.isRowDraft(value)) return pass === 'rows' ? (transaction.settledRow(value) as T) : value;
  if (isDraft(value)) return current(value as object) as T;
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item: unknown, index) => {
      const next = replaceDrafts(item, transaction, pass, depth + 1);
      if (next !== item) (copy ??= [...value])[index] = next;
    });
    return (copy ?? value) as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Record<string, unknown> | null = null;
  for (const [key, item] of Object.entries(value)) {
    const next = replaceDrafts(item, transaction, pass, depth + 1);
    if (next !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return (copy ?? value) as T;
}
