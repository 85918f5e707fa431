import pg from 'pg';
import { CHANGE_CHANNEL } from './schema.js';

export interface ChangeFeedOptions {
  url: string;
  /** This writer's origin: its own commits are in memory already, and their notifications are skipped. */
  origin: string;
  /** Called on every notification and after every (re)connection: read the change log past what is applied. */
  catchUp: () => Promise<void>;
  onWarning: (message: string, details: Record<string, unknown>) => void;
  /** Catch up this often even without a notification (a notification lost with its connection). */
  pollMs?: number;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

/**
 * One connection that LISTENs for other writers' commits. When it drops (the database restarts,
 * the network breaks) it reconnects with backoff and catches up by sequence, so a change
 * committed while nobody listened still arrives.
 */
export class ChangeFeed {
  readonly #options: ChangeFeedOptions;
  #client: pg.Client | null = null;
  #closed = false;
  #backoff = MIN_BACKOFF_MS;
  #retry: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  #connected = false;

  constructor(options: ChangeFeedOptions) {
    this.#options = options;
  }

  /** Whether the feed is listening right now. */
  get connected(): boolean {
    return this.#connected;
  }

  async start(): Promise<void> {
    await this.#connect();
    this.#poll = setInterval(() => this.#catchUp(), this.#options.pollMs ?? 5_000);
    this.#poll.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#poll) clearInterval(this.#poll);
    const client = this.#client;
    this.#client = null;
    this.#connected = false;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url, connectionTimeoutMillis: 5_000 });
    client.on('notification', ({ payload }) => {
      // Another writer's commits each notify on their own; the poll picks up the rest.
      if (payload?.endsWith(` ${this.#options.origin}`)) return;
      this.#catchUp();
    });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#connected = true;
    this.#backoff = MIN_BACKOFF_MS;
    this.#catchUp();
  }

  #catchUp(): void {
    this.#options
      .catchUp()
      .catch((err: unknown) => this.#options.onWarning('catching up with the change log failed; will retry', { err }));
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = null;
    this.#connected = false;
    client.end().catch(() => undefined);
    this.#options.onWarning('lost the database change feed; reconnecting', { err });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().catch((err: unknown) => {
        this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
        if (!this.#closed) this.#options.onWarning('reconnecting the database change feed failed', { err });
        this.#scheduleReconnect();
      });
    }, this.#backoff);
    this.#retry.unref();
  }
}
