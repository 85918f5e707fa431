/** The callers one flush acknowledges: they share a single promise, however many they are. */
interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
  size: number;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject, size: 0 };
}

/**
 * Lets many callers share one disk write. `commit()` resolves once a flush
 * that started after the call has finished, so a caller's change is on disk
 * when its promise settles. While one flush runs, callers queue for the next.
 */
export class GroupCommit {
  readonly #flush: () => Promise<void>;
  readonly #onBatch: (size: number, ms: number) => void;
  /** The batch the next flush carries; callers join it (one promise per flush, not per caller). */
  #next: Batch | null = null;
  #flushing = false;
  #scheduled = false;

  constructor(flush: () => Promise<void>, onBatch: (size: number, ms: number) => void = () => undefined) {
    this.#flush = flush;
    this.#onBatch = onBatch;
  }

  commit(): Promise<void> {
    const batch = (this.#next ??= newBatch());
    batch.size += 1;
    this.#schedule();
    return batch.promise;
  }

  /** Resolves when everything queued so far is on disk. */
  async drain(): Promise<void> {
    if (this.#next || this.#flushing) await this.commit();
  }

  #schedule(): void {
    if (this.#flushing || this.#scheduled) return;
    this.#scheduled = true;
    // Wait one turn of the event loop so that writes issued together batch together.
    setImmediate(() => void this.#run());
  }

  async #run(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#next;
    this.#next = null;
    if (!batch) return;
    this.#flushing = true;
    const started = performance.now();
    try {
      await this.#flush();
      this.#onBatch(batch.size, performance.now() - started);
      batch.resolve();
    } catch (err) {
      batch.reject(err);
    } finally {
      this.#flushing = false;
      if (this.#next) this.#schedule();
    }
  }
}
