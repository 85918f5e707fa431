import { createDraft, current, finishDraft, isDraft, isDraftable, isModified, setAutoFreeze, type Draft } from 'immer';
import type { RowChange } from './change-record.js';
import { childPath, DOCUMENTS_TABLE, kindOf, valueAt } from './state-layout.js';

// Rows leave a mutation as plain objects that readers share; freezing them would turn a stray
// write outside `update` from a lost change into a crash in code paths no test reaches.
setAutoFreeze(false);

/** What a mutation returned and which rows it changed; current state is not touched yet. */
export interface StagedMutation<T> {
  result: T;
  changes: RowChange[];
}

/**
 * Runs `mutate` against a view of `state` that records what it changes instead of changing it.
 * Each row the mutation reaches is an immer draft of its own, so a write costs the rows it
 * touches, however many rows a collection holds (immer drafting the whole tree copies every
 * collection it enters: 59 ms per write at 100,000 users). When `mutate` throws, nothing was
 * changed. `applyChanges` then makes the staged changes current.
 */
export function stageMutation<S extends object, T>(state: S, mutate: (draft: S) => T): StagedMutation<T> {
  const transaction = new Transaction(state);
  try {
    const result = materialize(mutate(transaction.namespace('') as S));
    return { result, changes: transaction.finish() };
  } finally {
    transaction.close();
  }
}

const DELETED = Symbol('deleted');
type Staged = unknown | typeof DELETED;

class Transaction {
  readonly #state: object;
  readonly #namespaces = new Map<string, object>();
  readonly #bases = new Map<string, Record<string, unknown>>();
  readonly #collections = new Map<string, CollectionOverlay>();
  /** Per document path: its draft, or the value the mutation assigned (DELETED when removed). */
  readonly #documents = new Map<string, { draft: Draft<object> } | { value: Staged }>();
  #closed = false;

  constructor(state: object) {
    this.#state = state;
  }

  namespace(path: string): object {
    let proxy = this.#namespaces.get(path);
    if (!proxy) {
      proxy = new Proxy({}, this.#namespaceHandler(path));
      this.#namespaces.set(path, proxy);
    }
    return proxy;
  }

  finish(): RowChange[] {
    const changes: RowChange[] = [];
    for (const overlay of this.#collections.values()) overlay.finish(changes);
    for (const [path, staged] of this.#documents) {
      const before = valueAt(this.#state, path);
      const after = 'draft' in staged ? finishDraft(staged.draft) : materialize(staged.value);
      if (after === before) continue;
      changes.push({ table: DOCUMENTS_TABLE, id: path, value: after === DELETED ? null : after });
    }
    return changes;
  }

  close(): void {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new TypeError('a store draft was used after its update finished; copy values out instead');
  }

  /** The live object at `path`, looked up once per mutation: collections change in place, never by identity. */
  #base(path: string): Record<string, unknown> {
    let base = this.#bases.get(path);
    if (!base) {
      const value = path === '' ? this.#state : valueAt(this.#state, path);
      base = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
      this.#bases.set(path, base);
    }
    return base;
  }

  #collection(path: string): CollectionOverlay {
    let overlay = this.#collections.get(path);
    if (!overlay) {
      overlay = new CollectionOverlay(path, this.#base(path), () => this.#assertOpen());
      this.#collections.set(path, overlay);
    }
    return overlay;
  }

  #document(path: string, base: Record<string, unknown>, key: string): unknown {
    const staged = this.#documents.get(path);
    if (staged) return 'draft' in staged ? staged.draft : staged.value === DELETED ? undefined : staged.value;
    if (!Object.hasOwn(base, key)) return Reflect.get(base, key);
    const value = base[key];
    if (!isDraftable(value)) return value;
    const draft = createDraft(value as object);
    this.#documents.set(path, { draft });
    return draft;
  }

  #namespaceHandler(path: string): ProxyHandler<object> {
    const child = (key: string): string => childPath(path, key);
    const has = (key: string): boolean => {
      const staged = this.#documents.get(child(key));
      if (staged && 'value' in staged) return staged.value !== DELETED;
      return Object.hasOwn(this.#base(path), key) || kindOf(child(key)) !== 'document';
    };
    const get = (key: string): unknown => {
      this.#assertOpen();
      const kind = kindOf(child(key));
      if (kind === 'collection') return this.#collection(child(key)).proxy;
      if (kind === 'namespace') return this.namespace(child(key));
      return this.#document(child(key), this.#base(path), key);
    };
    const assign = (key: string, value: Staged): boolean => {
      this.#assertOpen();
      const kind = kindOf(child(key));
      if (kind === 'namespace')
        throw new TypeError(`${child(key)} holds collections; change its collections one by one`);
      if (kind === 'collection') this.#collection(child(key)).replaceAll(value === DELETED ? {} : value);
      else this.#documents.set(child(key), { value });
      return true;
    };
    return {
      get: (_target, key) => (typeof key === 'symbol' ? Reflect.get(this.#base(path), key) : get(key)),
      set: (_target, key, value) => typeof key === 'string' && assign(key, value),
      deleteProperty: (_target, key) => typeof key === 'string' && assign(key, DELETED),
      has: (_target, key) => typeof key === 'string' && has(key),
      ownKeys: () => {
        const keys = new Set(Object.keys(this.#base(path)));
        for (const [docPath, staged] of this.#documents) {
          if (!docPath.startsWith(path === '' ? '' : `${path}.`)) continue;
          const key = docPath.slice(path === '' ? 0 : path.length + 1);
          if (key.includes('.')) continue;
          if ('value' in staged && staged.value === DELETED) keys.delete(key);
          else keys.add(key);
        }
        return [...keys];
      },
      getOwnPropertyDescriptor: (_target, key) =>
        typeof key === 'string' && has(key)
          ? { value: get(key), writable: true, enumerable: true, configurable: true }
          : undefined,
    };
  }
}

/** One collection as a mutation sees it: live rows, overlaid with the rows it wrote or drafted. */
class CollectionOverlay {
  readonly proxy: Record<string, unknown>;
  readonly #table: string;
  readonly #base: Record<string, unknown>;
  readonly #writes = new Map<string, Staged>();
  readonly #drafts = new Map<string, Draft<object>>();

  constructor(table: string, base: Record<string, unknown>, assertOpen: () => void) {
    this.#table = table;
    this.#base = base;
    this.proxy = new Proxy({} as Record<string, unknown>, {
      get: (_target, key) => {
        if (typeof key === 'symbol') return Reflect.get(this.#base, key);
        assertOpen();
        return this.#row(key);
      },
      set: (_target, key, value) => {
        assertOpen();
        if (typeof key !== 'string') return false;
        this.#write(key, value);
        return true;
      },
      deleteProperty: (_target, key) => {
        assertOpen();
        if (typeof key !== 'string') return false;
        this.#write(key, DELETED);
        return true;
      },
      has: (_target, key) => typeof key === 'string' && this.#has(key),
      ownKeys: () => this.#keys(),
      // Listing keys (Object.keys, the first step of Object.values) must not draft every row:
      // the descriptor shows the row as it is; reading it through `get` drafts it.
      getOwnPropertyDescriptor: (_target, key) =>
        typeof key === 'string' && this.#has(key)
          ? { value: this.#peek(key), writable: true, enumerable: true, configurable: true }
          : undefined,
    });
  }

  replaceAll(rows: unknown): void {
    const next = (typeof rows === 'object' && rows !== null ? rows : {}) as Record<string, unknown>;
    for (const id of this.#keys()) if (!Object.hasOwn(next, id)) this.#write(id, DELETED);
    for (const [id, value] of Object.entries(next)) this.#write(id, value);
  }

  finish(changes: RowChange[]): void {
    const base = this.#base;
    // Values written by the mutation may hold drafts of other rows: copy them out before the drafts end.
    const written = [...this.#writes].map(([id, value]) => [id, materialize(value)] as const);
    for (const [id, draft] of this.#drafts) {
      // A row the mutation only read: nothing to finish (an unfinished draft is just garbage).
      if (!isModified(draft)) continue;
      const after = finishDraft(draft);
      if (after !== base[id]) changes.push({ table: this.#table, id, value: after });
    }
    for (const [id, value] of written) {
      if (value === DELETED) {
        if (Object.hasOwn(base, id)) changes.push({ table: this.#table, id, value: null });
      } else if (value !== base[id]) {
        changes.push({ table: this.#table, id, value });
      }
    }
  }

  #has(id: string): boolean {
    const written = this.#writes.get(id);
    if (written !== undefined || this.#writes.has(id)) return written !== DELETED;
    return Object.hasOwn(this.#base, id);
  }

  #peek(id: string): unknown {
    if (this.#writes.has(id)) {
      const written = this.#writes.get(id);
      return written === DELETED ? undefined : written;
    }
    return this.#drafts.get(id) ?? this.#base[id];
  }

  #row(id: string): unknown {
    if (this.#writes.has(id)) {
      const written = this.#writes.get(id);
      return written === DELETED ? undefined : written;
    }
    const drafted = this.#drafts.get(id);
    if (drafted) return drafted;
    const base = this.#base;
    if (!Object.hasOwn(base, id)) return Reflect.get(base, id);
    const value = base[id];
    if (!isDraftable(value)) return value;
    const draft = createDraft(value as object);
    this.#drafts.set(id, draft);
    return draft;
  }

  #write(id: string, value: Staged): void {
    this.#drafts.delete(id);
    this.#writes.set(id, value);
  }

  #keys(): string[] {
    const keys = Object.keys(this.#base);
    if (this.#writes.size === 0) return keys;
    const present = keys.filter((id) => this.#writes.get(id) !== DELETED);
    for (const [id, value] of this.#writes) if (value !== DELETED && !Object.hasOwn(this.#base, id)) present.push(id);
    return present;
  }
}

const MAX_DEPTH = 16;

/**
 * Replaces drafts inside a value with plain copies, so that what a mutation returns or writes
 * stays readable after its drafts end. Copies only the containers on the way to a draft.
 */
function materialize<T>(value: T, depth = 0): T {
  if (isDraft(value)) return current(value as object) as T;
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item: unknown, index) => {
      const next = materialize(item, depth + 1);
      if (next !== item) (copy ??= [...value])[index] = next;
    });
    return (copy ?? value) as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Record<string, unknown> | null = null;
  for (const [key, item] of Object.entries(value)) {
    const next = materialize(item, depth + 1);
    if (next !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return (copy ?? value) as T;
}
