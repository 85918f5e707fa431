import type { Logger } from './logger.js';

export interface Job {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

/**
 * Runs periodic housekeeping (stale sessions, expiries, grace periods,
 * reconciliation, missed-webhook recovery). A job never overlaps itself, and
 * a failing run is logged and retried at the next tick: no outcome depends on
 * one run.
 */
export class Scheduler {
  readonly #logger: Logger;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<Promise<unknown>>();

  constructor(logger: Logger) {
    this.#logger = logger.child({ component: 'scheduler' });
  }

  add(job: Job): void {
    let busy = false;
    const tick = (): void => {
      if (busy) return;
      busy = true;
      const run = job
        .run()
        .catch((err: unknown) => this.#logger.error({ err, job: job.name }, 'scheduled job failed; retrying next tick'))
        .finally(() => {
          busy = false;
          this.#running.delete(run);
        });
      this.#running.add(run);
    };
    const timer = setInterval(tick, job.everyMs);
    timer.unref();
    this.#timers.push(timer);
  }

  /** Stops scheduling and waits for runs in flight. */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await Promise.allSettled([...this.#running]);
  }
}
