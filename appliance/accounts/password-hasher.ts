import bcrypt from 'bcryptjs';
import { TurnpikeError } from '../errors.js';

/**
 * bcryptjs behind a small queue. Its async API yields to the event loop
 * between rounds, and at most `concurrency` hashes run at once, so a login
 * flood queues here instead of taking every CPU slice from other requests.
 * A queue longer than `maxQueued` sheds load with TP_ERR_UNAVAILABLE.
 */
export class PasswordHasher {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  #dummyHash: Promise<string> | null = null;

  constructor(options: { concurrency: number; maxQueued?: number }) {
    this.#concurrency = options.concurrency;
    this.#maxQueued = options.maxQueued ?? 512;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async hash(password: string, cost: number): Promise<string> {
    return this.#run(async () => bcrypt.hash(password, await bcrypt.genSalt(cost)));
  }

  async verify(password: string, hash: string): Promise<boolean> {
    return this.#run(() => bcrypt.compare(password, hash));
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

  async #run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new TurnpikeError('TP_ERR_UNAVAILABLE', 'The sign-in service is busy; try again shortly');
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
