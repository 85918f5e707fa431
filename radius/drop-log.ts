import type { Logger } from '../shared/logger.js';

/**
 * Counts silently dropped packets by reason and logs each reason at most once per interval,
 * with the number suppressed since, so that a flood cannot flood the log too.
 */
export class DropLog {
  readonly counts: Record<string, number> = {};
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #message: string;
  readonly #lastLogged = new Map<string, { at: number; suppressed: number }>();

  /** `message`: what the log line says happened (the same helper counts what session caps refuse). */
  constructor(logger: Logger, intervalMs = 10_000, message = 'dropped RADIUS packet') {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#message = message;
  }

  drop(reason: string, source: string, now: number): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    const last = this.#lastLogged.get(reason);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed += 1;
      return;
    }
    this.#logger.warn({ reason, source, suppressedSinceLast: last?.suppressed ?? 0 }, this.#message);
    this.#lastLogged.set(reason, { at: now, suppressed: 0 });
  }

  get total(): number {
    return Object.values(this.counts).reduce((sum, count) => sum + count, 0);
  }
}
