import type pg from 'pg';
import type { RowChange } from '../change-record.js';
import { storeErrorOf } from './pg-errors.js';

/** A row as the database holds it when a change record's expected version did not match. */
export interface CurrentRow {
  table: string;
  id: string;
  /** null: the row is absent. */
  value: unknown;
  version: number;
}

export type CommitOutcome =
  | { seq: number }
  /** Not written: these rows changed since the mutation read them; `asOf` is the log sequence they are current to. */
  | { conflicts: CurrentRow[]; asOf: number };

interface Pending {
  changes: RowChange[];
  expected: number[];
  resolve: (outcome: CommitOutcome) => void;
  reject: (err: unknown) => void;
}

/** At most this many change records per transaction, so one batch cannot hold the commit lock for long. */
const MAX_BATCH = 500;
/**
 * Transactions in flight at once. Commits are serialized in the database (see tp_commit), but a
 * second batch sent while the first commits starts the moment the lock frees, instead of a round
 * trip later. Two batches never share a row: `update` holds back a mutation whose rows are in flight.
 */
const PIPELINE = 2;

/**
 * Group commit for the database: change records queued while a transaction runs go together in
 * the next one (`tp_commit`, one round trip), each still checked on its own. `onCommitted` runs
 * before any caller's promise resolves, so that memory already holds the outcome when the
 * caller — or a caller waiting on the same rows — continues.
 */
export class CommitQueue {
  readonly #pool: pg.Pool;
  readonly #origin: string;
  readonly #onCommitted: (batch: Array<{ changes: RowChange[]; outcome: CommitOutcome }>, ms: number) => void;
  #waiting: Pending[] = [];
  readonly #flights = new Set<Promise<void>>();
  #scheduled = false;

  constructor(
    pool: pg.Pool,
    origin: string,
    onCommitted: (batch: Array<{ changes: RowChange[]; outcome: CommitOutcome }>, ms: number) => void,
  ) {
    this.#pool = pool;
    this.#origin = origin;
    this.#onCommitted = onCommitted;
  }

  commit(changes: RowChange[], expected: number[]): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ changes, expected, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once every queued record has its outcome. */
  async idle(): Promise<void> {
    while (this.#flights.size > 0 || this.#scheduled) {
      await Promise.all([...this.#flights]);
      if (this.#scheduled) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flights.size >= PIPELINE || this.#waiting.length === 0) return;
    this.#scheduled = true;
    // One turn of the event loop lets writes issued together share one transaction.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#flights.size >= PIPELINE || this.#waiting.length === 0) return;
      const flight = this.#send(this.#nextBatch()).finally(() => {
        this.#flights.delete(flight);
        this.#schedule();
      });
      this.#flights.add(flight);
      this.#schedule();
    });
  }

  async #send(batch: Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const payload = JSON.stringify(batch.map(({ changes, expected }) => ({ changes, expected })));
      const { rows } = await this.#pool.query<{ outcomes: CommitOutcome[] }>(
        'SELECT tp_commit($1, $2::jsonb) AS outcomes',
        [this.#origin, payload],
      );
      const outcomes = rows[0]!.outcomes.map(normalize);
      this.#onCommitted(
        batch.map((pending, index) => ({ changes: pending.changes, outcome: outcomes[index]! })),
        performance.now() - started,
      );
      batch.forEach((pending, index) => pending.resolve(outcomes[index]!));
    } catch (err) {
      const error = storeErrorOf(err, 'commit');
      for (const pending of batch) pending.reject(error);
    }
  }

  /**
   * The queued records that go together: at most MAX_BATCH, and no two touching the same row, so
   * that `tp_commit` checks every record against the rows as they were before the batch. A record
   * sharing a row with an earlier one waits for the next batch.
   */
  #nextBatch(): Pending[] {
    const batch: Pending[] = [];
    const later: Pending[] = [];
    const rows = new Set<string>();
    for (const pending of this.#waiting) {
      const keys = pending.changes.map(({ table, id }) => `${table}\u0000${id}`);
      if (batch.length >= MAX_BATCH || keys.some((key) => rows.has(key))) {
        later.push(pending);
        continue;
      }
      for (const key of keys) rows.add(key);
      batch.push(pending);
    }
    this.#waiting = later;
    return batch;
  }
}

/** jsonb numbers arrive as numbers; versions are bigints in the table but stay far below 2^53. */
function normalize(outcome: CommitOutcome): CommitOutcome {
  if ('seq' in outcome) return { seq: Number(outcome.seq) };
  return {
    asOf: Number(outcome.asOf),
    conflicts: outcome.conflicts.map((row) => ({ ...row, version: Number(row.version) })),
  };
}
