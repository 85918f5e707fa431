import { readFileIfExists, writeFileDurably } from '../../appliance/store/durable-file.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { SessionExtras } from './fake-checkout.js';
import type { LedgerState } from './fake-ledger.js';

/** Everything the fake knows, as saved in its state file. */
export interface FakeState {
  version: 1;
  ledger: LedgerState;
  cards: Array<[string, string]>;
  checkoutExtras: Array<[string, SessionExtras]>;
  idempotency: Array<[string, { fingerprint: string; status: number; body: unknown }]>;
  /** The keys the fake accepted, so that a restart of the embedded default keeps them. */
  keys: { apiKey: string | null; webhookSecret: string };
}

/** Reads a state file, or null when there is none yet; a damaged one stops the start, untouched. */
export async function readFakeState(path: string): Promise<FakeState | null> {
  const text = await readFileIfExists(path);
  if (text === null) return null;
  try {
    const state = JSON.parse(text) as Partial<FakeState>;
    if (state.version !== 1 || typeof state.ledger !== 'object' || !Array.isArray(state.cards)) {
      throw new Error('not a Stripe fake state file of version 1');
    }
    return state as FakeState;
  } catch (err) {
    throw new TurnpikeError(
      'TP_ERR_STORE_CORRUPT',
      `${path} cannot be read (${(err as Error).message}). It was left untouched; move it away to start the Stripe fake empty.`,
      { path },
    );
  }
}

/**
 * Saves the state after each change, one write at a time (temp file, fsync, rename; mode 0600).
 * `save()` resolves once a write that began after the call is on disk, so a reply sent after it
 * is never lost to a restart; saves asked for while one runs share the next write.
 */
export class FakeStateFile {
  readonly #path: string;
  readonly #snapshot: () => FakeState;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;

  constructor(path: string, snapshot: () => FakeState) {
    this.#path = path;
    this.#snapshot = snapshot;
  }

  /** Resolves when the saves asked for so far are done (nothing to write otherwise). */
  async settled(): Promise<void> {
    await (this.#next ?? this.#running)?.catch(() => undefined);
  }

  save(): Promise<void> {
    if (this.#next) return this.#next;
    const after = this.#running ?? Promise.resolve();
    const write = after
      .catch(() => undefined)
      .then(() => {
        this.#next = null;
        this.#running = write;
        return writeFileDurably(this.#path, JSON.stringify(this.#snapshot()));
      })
      .finally(() => {
        if (this.#running === write) this.#running = null;
      });
    this.#next = write;
    return write;
  }
}
