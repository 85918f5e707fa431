import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../shared/clock.js';
import type { Db, Lease } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';

/** Names this process in a lease: readable in the admin views, and never reused by a restarted process. */
export function processHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export interface ExclusiveRunOptions {
  /** How long the lease lasts unless renewed; it is renewed every third of it while the task runs. */
  ttlMs: number;
  /** Give up waiting for another holder after this long (TP_ERR_UNAVAILABLE). */
  waitMs: number;
  /** How often a waiter looks again. */
  pollMs?: number;
}

/**
 * Leases kept in the store, so that every appliance on one store agrees who may run something
 * that only one of them may run at a time. A lease is free when nobody holds it or its holder let
 * it expire (a dead or partitioned appliance stops renewing); taking it is a store write, so two
 * appliances racing for it are ordered by the store and exactly one wins.
 */
export class Leases {
  readonly holder: string;
  readonly #store: Store;
  readonly #clock: Clock;
  /** Exclusive runs waiting in this process, by lease: the store orders processes, this orders one process's callers. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(options: { store: Store; clock: Clock; holder?: string }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.holder = options.holder ?? processHolderId();
  }

  /** True while this process holds `name` and it has not expired. */
  holds(name: string): boolean {
    const lease = this.#store.db.leases[name];
    return lease !== undefined && lease.holder === this.holder && lease.expiresAt > this.#clock.now();
  }

  /** The current holder of `name`, or null when it is free. */
  holderOf(name: string): Lease | null {
    const lease = this.#store.db.leases[name];
    return lease && lease.expiresAt > this.#clock.now() ? { ...lease } : null;
  }

  /** Takes each lease that is free or expired and renews each one already held; returns the names held now. */
  async claim(names: readonly string[], ttlMs: number): Promise<string[]> {
    const now = this.#clock.now();
    return this.#store.update((db) => names.filter((name) => this.#claimIn(db, name, now, ttlMs)));
  }

  /** Hands the leases over at once instead of letting them expire (a clean stop). */
  async release(names: readonly string[]): Promise<void> {
    await this.#store.update((db) => {
      for (const name of names) {
        if (db.leases[name]?.holder === this.holder) delete db.leases[name];
      }
    });
  }

  /**
   * Runs `task` while holding `name`, after waiting for any other holder to finish or expire.
   * The lease is renewed while the task runs and released when it ends, so appliances take turns.
   */
  runExclusive<T>(name: string, options: ExclusiveRunOptions, task: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(name) ?? Promise.resolve()).then(
      () => this.#runHolding(name, options, task),
      () => this.#runHolding(name, options, task),
    );
    const settled = run.catch(() => undefined);
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return run;
  }

  async #runHolding<T>(name: string, options: ExclusiveRunOptions, task: () => Promise<T>): Promise<T> {
    const pollMs = options.pollMs ?? 50;
    // Counted in polls rather than read from the clock: a test's manual clock need not move.
    let pollsLeft = Math.ceil(options.waitMs / pollMs);
    while ((await this.claim([name], options.ttlMs)).length === 0) {
      if (pollsLeft-- <= 0) {
        const holder = this.holderOf(name)?.holder ?? 'unknown';
        throw new TurnpikeError('TP_ERR_UNAVAILABLE', `"${name}" is busy on ${holder}; try again shortly`, {
          lease: name,
          retryAfterSeconds: Math.ceil(options.ttlMs / 1000),
        });
      }
      await sleep(pollMs);
    }
    const renewal = setInterval(() => {
      this.claim([name], options.ttlMs).catch(() => undefined);
    }, options.ttlMs / 3);
    renewal.unref();
    try {
      return await task();
    } finally {
      clearInterval(renewal);
      // A release that fails (store unreachable) only delays the next holder until the lease expires.
      await this.release([name]).catch(() => undefined);
    }
  }

  #claimIn(db: Db, name: string, now: number, ttlMs: number): boolean {
    const lease = db.leases[name];
    if (lease && lease.holder !== this.holder && lease.expiresAt > now) return false;
    const acquiredAt = lease?.holder === this.holder ? lease.acquiredAt : now;
    db.leases[name] = { name, holder: this.holder, acquiredAt, expiresAt: now + ttlMs };
    return true;
  }
}
