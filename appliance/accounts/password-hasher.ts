import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { TurnpikeError } from '../../shared/errors.js';

/**
 * Runs in each worker. bcryptjs's async API computes in slices of up to
 * 100 ms on the calling thread — a whole cost-10 hash in one slice — so
 * hashing lives on worker threads, at nice 19, and the event loop only passes messages.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
try {
  // Lowest CPU priority for this thread only (Linux: a thread id is a pid to setpriority),
  // so the event loop preempts hashing as soon as a request arrives.
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, 19);
} catch {
  // Not Linux: the scheduler's fairness is all we get.
}
parentPort.on('message', (job) => {
  try {
    const result = job.op === 'hash'
      ? bcrypt.hashSync(job.password, bcrypt.genSaltSync(job.cost))
      : bcrypt.compareSync(job.password, job.hash);
    parentPort.postMessage({ result });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

type Job = { op: 'hash'; password: string; cost: number } | { op: 'verify'; password: string; hash: string };

interface Pending {
  job: Job;
  resolve(value: string | boolean): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
}

/**
 * bcrypt on a pool of `concurrency` worker threads. A login flood queues here
 * instead of taking the event loop; a queue longer than `maxQueued` sheds load
 * with TP_ERR_UNAVAILABLE rather than growing without bound.
 */
export class PasswordHasher {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #slots: Slot[] = [];
  readonly #waiting: Pending[] = [];
  readonly #bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
  #dummyHash: Promise<string> | null = null;
  #closed = false;

  constructor(options: { concurrency: number; maxQueued?: number }) {
    this.#concurrency = options.concurrency;
    this.#maxQueued = options.maxQueued ?? 512;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async hash(password: string, cost: number): Promise<string> {
    return (await this.#submit({ op: 'hash', password, cost })) as string;
  }

  async verify(password: string, hash: string): Promise<boolean> {
    return (await this.#submit({ op: 'verify', password, hash })) as boolean;
  }

  /**
   * Spends the same work as a real check against an unknown account, so the
   * answer's timing does not tell whether the email exists.
   */
  async verifyNothing(password: string, cost: number): Promise<false> {
    this.#dummyHash ??= this.hash('turnpike-no-such-account', cost);
    await this.verify(password, await this.#dummyHash);
    return false;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#waiting.splice(0)) pending.reject(new TurnpikeError('TP_ERR_UNAVAILABLE'));
    await Promise.all(this.#slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  #submit(job: Job): Promise<string | boolean> {
    if (this.#closed) return Promise.reject(new TurnpikeError('TP_ERR_UNAVAILABLE'));
    return new Promise((resolve, reject) => {
      const pending: Pending = { job, resolve, reject };
      const idle = this.#slots.find((slot) => slot.current === null) ?? this.#spawn();
      if (idle) {
        this.#start(idle, pending);
        return;
      }
      if (this.#waiting.length >= this.#maxQueued) {
        reject(new TurnpikeError('TP_ERR_UNAVAILABLE', 'The sign-in service is busy; try again shortly'));
        return;
      }
      this.#waiting.push(pending);
    });
  }

  #spawn(): Slot | null {
    if (this.#slots.length >= this.#concurrency) return null;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath: this.#bcryptPath } });
    worker.unref();
    const slot: Slot = { worker, current: null };
    worker.on('message', (message: { result?: string | boolean; error?: string }) => {
      const pending = slot.current;
      slot.current = null;
      if (pending) {
        if (message.error !== undefined) pending.reject(new Error(message.error));
        else pending.resolve(message.result!);
      }
      this.#next(slot);
    });
    worker.on('error', (err) => {
      slot.current?.reject(err);
      slot.current = null;
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      const waiting = this.#waiting.shift();
      if (waiting) this.#submit(waiting.job).then(waiting.resolve, waiting.reject);
    });
    this.#slots.push(slot);
    return slot;
  }

  #start(slot: Slot, pending: Pending): void {
    slot.current = pending;
    slot.worker.ref();
    slot.worker.postMessage(pending.job);
  }

  #next(slot: Slot): void {
    const waiting = this.#waiting.shift();
    if (waiting) this.#start(slot, waiting);
    else slot.worker.unref();
  }
}
