import type { Leases } from './leases/leases.js';
import type { Logger } from '../shared/logger.js';

export interface Job {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
  /**
   * Runs on every appliance, without a lease: for work about this process's own memory (flushing
   * what it observed into the shared store), which no other appliance could do for it.
   */
  everyAppliance?: boolean;
}

export interface SchedulerOptions {
  /**
   * When given, each job runs only on the appliance holding its lease (`job:<name>`), so that
   * appliances sharing one store do not run the same housekeeping twice.
   */
  leases?: Leases;
  /** Hears each finished run (metrics: job health); must not throw. */
  onRun?: (job: string, ok: boolean, seconds: number) => void;
  /** How long a job's lease lasts unless renewed; renewed every third of it. A dead leader's jobs move after it. */
  leaseTtlMs?: number;
}

export const DEFAULT_JOB_LEASE_TTL_MS = 15_000;

export const jobLeaseName = (job: Pick<Job, 'name'>): string => `job:${job.name}`;

/**
 * Runs periodic housekeeping (stale sessions, expiries, grace periods,
 * reconciliation, missed-webhook recovery). A job never overlaps itself, and
 * a failing run is logged and retried at the next tick: no outcome depends on
 * one run. With leases, one appliance leads each job: it renews the job's lease
 * while it lives (running or not), hands it over on a clean stop, and when it
 * dies the lease expires and the next appliance to claim it takes the job over.
 */
export class Scheduler {
  readonly #logger: Logger;
  readonly #leases: Leases | null;
  readonly #leaseTtlMs: number;
  readonly #onRun: SchedulerOptions['onRun'];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<Promise<unknown>>();
  readonly #leaseNames: string[] = [];
  #keeper: NodeJS.Timeout | null = null;
  #claiming: Promise<void> | null = null;
  #claimAgain = false;
  readonly #jobNames: string[] = [];
  #led = new Set<string>();

  constructor(logger: Logger, options: SchedulerOptions = {}) {
    this.#logger = logger.child({ component: 'scheduler' });
    this.#leases = options.leases ?? null;
    this.#leaseTtlMs = options.leaseTtlMs ?? DEFAULT_JOB_LEASE_TTL_MS;
    this.#onRun = options.onRun;
  }

  add(job: Job): void {
    let busy = false;
    const lease = jobLeaseName(job);
    const tick = (): void => {
      if (busy) return;
      if (this.#leases && !job.everyAppliance && !this.#leases.holds(lease)) return;
      busy = true;
      const started = performance.now();
      const finished = (ok: boolean): void => this.#onRun?.(job.name, ok, (performance.now() - started) / 1000);
      const run = job
        .run()
        .then(
          () => finished(true),
          (err: unknown) => {
            finished(false);
            this.#logger.error({ err, job: job.name }, 'scheduled job failed; retrying next tick');
          },
        )
        .finally(() => {
          busy = false;
          this.#running.delete(run);
        });
      this.#running.add(run);
    };
    const timer = setInterval(tick, job.everyMs);
    timer.unref();
    this.#timers.push(timer);
    this.#jobNames.push(jobLeaseName(job));
    if (this.#leases && !job.everyAppliance) {
      this.#leaseNames.push(lease);
      this.#keepLeases();
    }
  }

  /** The leases (`job:<name>`) of the jobs this appliance leads now: all of them without leases. */
  leading(): string[] {
    return this.#leases ? [...this.#led] : [...this.#jobNames];
  }

  /** Stops scheduling, waits for runs in flight, then hands this appliance's leases to the next one. */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    if (this.#keeper) clearInterval(this.#keeper);
    this.#keeper = null;
    await this.#claiming;
    await Promise.allSettled([...this.#running]);
    if (this.#leases && this.#leaseNames.length > 0) {
      await this.#leases.release(this.#leaseNames).catch((err: unknown) => {
        this.#logger.warn({ err }, 'could not hand job leases over; they move when they expire');
      });
    }
  }

  #keepLeases(): void {
    if (this.#keeper === null) {
      this.#keeper = setInterval(() => this.#claim(), this.#leaseTtlMs / 3);
      this.#keeper.unref();
    }
    this.#claim();
  }

  /** One store write renews every lease held and takes every free one; a failure just leaves them to expire. */
  #claim(): void {
    const leases = this.#leases;
    if (!leases) return;
    if (this.#claiming) {
      // A job added while a claim is on its way is claimed right after it, not a renewal period later.
      this.#claimAgain = true;
      return;
    }
    this.#claiming = leases
      .claim(this.#leaseNames, this.#leaseTtlMs)
      .then((held) => this.#noteLeading(new Set(held)))
      .catch((err: unknown) => {
        this.#logger.warn({ err }, 'could not renew job leases; another appliance takes the jobs if they expire');
      })
      .finally(() => {
        this.#claiming = null;
        if (this.#claimAgain && this.#keeper) {
          this.#claimAgain = false;
          this.#claim();
        }
      });
  }

  #noteLeading(held: Set<string>): void {
    for (const name of held) {
      if (!this.#led.has(name)) this.#logger.info({ lease: name, holder: this.#leases?.holder }, 'now leading job');
    }
    for (const name of this.#led) {
      if (!held.has(name)) this.#logger.info({ lease: name }, 'no longer leading job');
    }
    this.#led = held;
  }
}
