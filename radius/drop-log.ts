import type { Logger } from '../appliance/logger.js';

/**
 * Counts silently dropped packets by reason and logs each reason at most once per interval,
 * with the number suppressed since, so that a flood cannot flood the log too.
 */
export class DropLog {
  readonly counts: Record<string, number> = {};
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: Logger, intervalMs = 10_000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  drop(reason: string, source: string, now: number): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    const last = this.#lastLogged.get(reason);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed += 1;
      return;
    }
    this.#logger.warn({ reason, source, suppressedSinceLast: last?.suppressed ?? 0 }, 'dropped RADIUS packet');
    this.#lastLogged.set(reason, { at: now, suppressed: 0 });
  }

  get total(): number {
    return Object.values(this.counts).reduce((sum, count) => sum + count, 0);
  }
}
