/**
 * The history appends a store mutation starts, awaited after the mutation so that both reach the
 * disk together. A store may run a mutation more than once (PostgreSQL re-runs it after a
 * conflict), so every run's appends are kept. Each one is observed the moment it is added: while
 * the database is out of reach an append can fail before the mutation settles, and a rejection
 * nobody listens to ends the process.
 */
export class HistoryAppends {
  readonly #pending: Array<Promise<unknown>> = [];

  add(...appends: Array<Promise<unknown>>): void {
    for (const append of appends) {
      append.catch(() => undefined);
      this.#pending.push(append);
    }
  }

  /** The mutation's result once it and every append are durable; the mutation's error when it failed. */
  async after<T>(update: Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await update;
    } catch (err) {
      await Promise.allSettled(this.#pending);
      throw err;
    }
    await Promise.all(this.#pending);
    return result;
  }
}
