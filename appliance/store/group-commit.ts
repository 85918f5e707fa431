interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Lets many callers share one disk write. `commit()` resolves once a flush
 * that started after the call has finished, so a caller's change is on disk
 * when its promise settles. While one flush runs, callers queue for the next.
 */
export class GroupCommit {
  readonly #flush: () => Promise<void>;
  readonly #onBatch: (size: number, ms: number) => void;
  #waiting: Waiter[] = [];
  #flushing = false;
  #scheduled = false;

  constructor(flush: () => Promise<void>, onBatch: (size: number, ms: number) => void = () => undefined) {
    this.#flush = flush;
    this.#onBatch = onBatch;
  }

  commit(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves when everything queued so far is on disk. */
  async drain(): Promise<void> {
    if (this.#waiting.length > 0 || this.#flushing) await this.commit();
  }

  #schedule(): void {
    if (this.#flushing || this.#scheduled) return;
    this.#scheduled = true;
    // Wait one turn of the event loop so that writes issued together batch together.
    setImmediate(() => void this.#run());
  }

  async #run(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    this.#flushing = true;
    const started = performance.now();
    try {
      await this.#flush();
      this.#onBatch(batch.length, performance.now() - started);
      for (const waiter of batch) waiter.resolve();
    } catch (err) {
      for (const waiter of batch) waiter.reject(err);
    } finally {
      this.#flushing = false;
      if (this.#waiting.length > 0) this.#schedule();
    }
  }
}
