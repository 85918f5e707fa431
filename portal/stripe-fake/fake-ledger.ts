import { randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { FormObject, FormValue } from './form-params.js';

/** An error in Stripe's wire shape; the SDK maps `type` to its error classes. */
export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly type: 'invalid_request_error' | 'card_error' | 'idempotency_error' | 'api_error',
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }

  toBody(): { error: Record<string, string> } {
    const error: Record<string, string> = { type: this.type, code: this.code, message: this.message };
    if (this.param) error.param = this.param;
    return { error };
  }
}

export type Metadata = Record<string, string>;

/** Every stored object is exactly what the API returns. */
export interface StripeObject {
  id: string;
  object: string;
  created: number;
  [key: string]: unknown;
}

export interface FakeEvent extends StripeObject {
  object: 'event';
  type: string;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
}

export interface ListResult<T> {
  object: 'list';
  url: string;
  has_more: boolean;
  data: T[];
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function newId(prefix: string): string {
  const bytes = randomBytes(24);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${out}`;
}

export function missing(kind: string, id: string): FakeStripeError {
  return new FakeStripeError(404, 'invalid_request_error', 'resource_missing', `No such ${kind}: '${id}'`, 'id');
}

export function required(params: FormObject, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value === '') {
    throw new FakeStripeError(
      400,
      'invalid_request_error',
      'parameter_missing',
      `Missing required param: ${name}.`,
      name,
    );
  }
  return value;
}

export function optionalString(params: FormObject, name: string): string | null {
  const value = params[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

export function integerParam(params: FormObject, name: string, fallback?: number): number {
  const value = params[name];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw new FakeStripeError(
      400,
      'invalid_request_error',
      'parameter_invalid_integer',
      `Invalid integer: ${String(value)}`,
      name,
    );
  }
  return Number(value);
}

export function booleanParam(params: FormObject, name: string): boolean | null {
  const value = params[name];
  if (value === undefined) return null;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new FakeStripeError(
    400,
    'invalid_request_error',
    'parameter_invalid_boolean',
    `Invalid boolean: ${String(value)}`,
    name,
  );
}

export function metadataParam(value: FormValue | undefined): Metadata {
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new FakeStripeError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid metadata', 'metadata');
  }
  const out: Metadata = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'parameter_invalid',
        `Invalid metadata[${key}]`,
        'metadata',
      );
    }
    if (entry !== '') out[key] = entry;
  }
  return out;
}

export type Collection =
  | 'customer'
  | 'product'
  | 'price'
  | 'checkout.session'
  | 'payment_intent'
  | 'charge'
  | 'payment_method'
  | 'subscription'
  | 'invoice'
  | 'refund';

export interface LedgerState {
  /** Insertion order kept: lists are newest first by it. */
  objects: Record<string, StripeObject[]>;
  events: FakeEvent[];
  offsetMs: number;
}

/**
 * The fake's whole state: objects by id, the event log and the billing clock
 * (the base clock plus whatever a test advanced it by).
 */
export class FakeLedger {
  readonly objects = new Map<Collection, Map<string, StripeObject>>();
  readonly events: FakeEvent[] = [];
  readonly #clock: Clock;
  readonly #onEvent: (event: FakeEvent) => void;
  #offsetMs = 0;
  /** During an advance, billing time steps through each due moment. */
  #pinnedMs: number | null = null;

  constructor(clock: Clock, onEvent: (event: FakeEvent) => void) {
    this.#clock = clock;
    this.#onEvent = onEvent;
  }

  nowMs(): number {
    return this.#pinnedMs ?? this.#clock.now() + this.#offsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  pin(ms: number | null): void {
    this.#pinnedMs = ms;
  }

  shift(ms: number): void {
    this.#offsetMs += ms;
  }

  /** Objects, events and the test clock's offset, as plain JSON for the state file. */
  exportState(): LedgerState {
    const objects: Record<string, StripeObject[]> = {};
    for (const [kind, map] of this.objects) objects[kind] = [...map.values()];
    return { objects, events: this.events, offsetMs: this.#offsetMs };
  }

  /** Loads a saved state into an empty ledger (at start, before any request). */
  importState(state: LedgerState): void {
    for (const [kind, objects] of Object.entries(state.objects)) {
      const map = this.collection(kind as Collection);
      for (const object of objects) map.set(object.id, object);
    }
    this.events.push(...state.events);
    this.#offsetMs = state.offsetMs;
  }

  collection(kind: Collection): Map<string, StripeObject> {
    let map = this.objects.get(kind);
    if (!map) {
      map = new Map();
      this.objects.set(kind, map);
    }
    return map;
  }

  put<T extends StripeObject>(kind: Collection, object: T): T {
    this.collection(kind).set(object.id, object);
    return object;
  }

  get<T extends StripeObject = StripeObject>(kind: Collection, id: string): T {
    const found = this.collection(kind).get(id);
    if (!found) throw missing(kind, id);
    return found as T;
  }

  find<T extends StripeObject = StripeObject>(kind: Collection, id: string): T | null {
    return (this.collection(kind).get(id) as T | undefined) ?? null;
  }

  emit(type: string, object: StripeObject, previous?: Record<string, unknown>): FakeEvent {
    const event: FakeEvent = {
      id: newId('evt'),
      object: 'event',
      api_version: '2026-10-28.endive',
      created: this.nowSeconds(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: previous
        ? { object: structuredClone(object), previous_attributes: previous }
        : { object: structuredClone(object) },
    };
    this.events.push(event);
    this.#onEvent(event);
    return event;
  }

  /** Stripe's cursor pagination over a newest-first list. */
  page<T extends StripeObject>(url: string, newestFirst: T[], params: FormObject): ListResult<T> {
    const limit = Math.min(100, Math.max(1, integerParam(params, 'limit', 10)));
    const after = optionalString(params, 'starting_after');
    const before = optionalString(params, 'ending_before');
    let data: T[];
    let hasMore: boolean;
    if (before) {
      const index = newestFirst.findIndex((item) => item.id === before);
      if (index === -1) throw missing('object', before);
      const newer = newestFirst.slice(0, index);
      data = newer.slice(Math.max(0, newer.length - limit));
      hasMore = newer.length > limit;
    } else {
      let start = 0;
      if (after) {
        const index = newestFirst.findIndex((item) => item.id === after);
        if (index === -1) throw missing('object', after);
        start = index + 1;
      }
      data = newestFirst.slice(start, start + limit);
      hasMore = newestFirst.length > start + limit;
    }
    return { object: 'list', url, has_more: hasMore, data };
  }

  /** Objects of a kind, newest first (insertion order reversed keeps ties stable). */
  newestFirst<T extends StripeObject>(kind: Collection, keep: (object: T) => boolean = () => true): T[] {
    return ([...this.collection(kind).values()] as T[]).filter(keep).reverse();
  }
}

/** `created[gte]=…` style range filters on list endpoints. */
export function createdFilter(params: FormObject): (object: StripeObject) => boolean {
  const range = params.created;
  if (range === undefined) return () => true;
  if (typeof range === 'string') {
    const exact = Number(range);
    return (object) => object.created === exact;
  }
  if (Array.isArray(range)) return () => true;
  const bound = (name: string): number | null => {
    const value = range[name];
    return typeof value === 'string' ? Number(value) : null;
  };
  const gte = bound('gte');
  const gt = bound('gt');
  const lte = bound('lte');
  const lt = bound('lt');
  return (object) =>
    (gte === null || object.created >= gte) &&
    (gt === null || object.created > gt) &&
    (lte === null || object.created <= lte) &&
    (lt === null || object.created < lt);
}
