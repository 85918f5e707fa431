import type pg from 'pg';
import type { History, HistoryName } from '../store.js';
import { GroupCommit } from '../group-commit.js';
import { lastRecord, recordsSince } from '../history-search.js';
import { storeErrorOf } from './pg-errors.js';
import { historyTableOf } from './schema.js';

const PAGE = 500;

/**
 * A history as an append-only table. `append` resolves once the row is committed; appends made
 * together share one INSERT, and rows keep the order of the calls.
 */
export class PgHistory<T extends object = Record<string, unknown>> implements History<T> {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #commit: GroupCommit;
  #buffer: string[] = [];

  constructor(pool: pg.Pool, name: HistoryName) {
    this.#pool = pool;
    this.#table = historyTableOf(name);
    this.#commit = new GroupCommit(() => this.#flush());
  }

  append(record: T): Promise<void> {
    this.#buffer.push(JSON.stringify(record));
    return this.#commit.commit();
  }

  async #flush(): Promise<void> {
    const records = this.#buffer;
    this.#buffer = [];
    if (records.length === 0) return;
    await this.#query(
      `INSERT INTO ${this.#table} (data)
       SELECT record.value FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS record ORDER BY record.ordinality`,
      [`[${records.join(',')}]`],
    );
  }

  /** Resolves once every append so far is committed. */
  drain(): Promise<void> {
    return this.#commit.drain();
  }

  async readAll(): Promise<T[]> {
    await this.drain();
    const { rows } = await this.#query<{ data: T }>(`SELECT data FROM ${this.#table} ORDER BY seq`);
    return rows.map((row) => row.data);
  }

  /**
   * Records oldest first, a page at a time by sequence. With `before`, the rows before the first
   * one it rejects are not read: a raw export of today need not page through years of accounting.
   */
  async *stream(before?: (record: T) => boolean): AsyncGenerator<T> {
    await this.drain();
    let above = before ? await this.#lastSeqBefore(before) : '0';
    for (;;) {
      const { rows }: { rows: Array<{ seq: string; data: T }> } = await this.#query<{ seq: string; data: T }>(
        `SELECT seq, data FROM ${this.#table} WHERE seq > $1::bigint ORDER BY seq LIMIT ${PAGE}`,
        [above],
      );
      for (const row of rows) yield row.data;
      if (rows.length < PAGE) return;
      above = rows.at(-1)!.seq;
    }
  }

  /**
   * The sequence number just below the first row `before` rejects, found by bisecting the table
   * (a few single-row reads, each by the primary key). Like the file driver skipping rotated files,
   * it trusts `before` to hold for a prefix of the history: a time bound, with the caller's slack
   * for appends that commit a little out of order.
   */
  async #lastSeqBefore(before: (record: T) => boolean): Promise<string> {
    const { rows } = await this.#query<{ low: string | null; high: string | null }>(
      `SELECT min(seq)::text AS low, max(seq)::text AS high FROM ${this.#table}`,
    );
    const bounds = rows[0];
    if (!bounds || bounds.low === null || bounds.high === null) return '0';
    // The first rejected row's sequence lies in [low, high]; high + 1 stands for "none is rejected".
    let low = BigInt(bounds.low);
    let high = BigInt(bounds.high) + 1n;
    while (low < high) {
      const middle = (low + high) / 2n;
      const { rows: found } = await this.#query<{ seq: string; data: T }>(
        `SELECT seq, data FROM ${this.#table} WHERE seq >= $1::bigint AND seq < $2::bigint ORDER BY seq LIMIT 1`,
        [middle.toString(), high.toString()],
      );
      const row = found[0];
      if (!row) high = middle;
      else if (before(row.data)) low = BigInt(row.seq) + 1n;
      else high = BigInt(row.seq);
    }
    return (low - 1n).toString();
  }

  /** The records after the newest one that `reached` accepts, oldest first, read newest first a page at a time. */
  readSince(reached: (record: T) => boolean): Promise<T[]> {
    return recordsSince(this.#newestFirst(), reached);
  }

  findLast(matches: (record: T) => boolean): Promise<T | undefined> {
    return lastRecord(this.#newestFirst(), matches);
  }

  async *#newestFirst(): AsyncGenerator<T[]> {
    await this.drain();
    let below: string | null = null;
    for (;;) {
      const { rows }: { rows: Array<{ seq: string; data: T }> } = await this.#query<{ seq: string; data: T }>(
        `SELECT seq, data FROM ${this.#table} WHERE $1::bigint IS NULL OR seq < $1::bigint ORDER BY seq DESC LIMIT ${PAGE}`,
        [below],
      );
      yield rows.map((row) => row.data);
      if (rows.length < PAGE) return;
      below = rows.at(-1)!.seq;
    }
  }

  async #query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(text, values);
    } catch (err) {
      throw storeErrorOf(err, `${this.#table}`);
    }
  }
}
