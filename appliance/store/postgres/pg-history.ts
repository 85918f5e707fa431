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

  /** Records oldest first, a page at a time by sequence. */
  async *stream(): AsyncGenerator<T> {
    await this.drain();
    let above = '0';
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
