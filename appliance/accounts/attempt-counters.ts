import type { AttemptCounter, Db } from '../domain/model.js';

/** Counters kept at most; past it the stalest go first, so a flood of new keys cannot grow the store. */
export const MAX_ATTEMPT_COUNTERS = 20_000;

/**
 * The counters, with room for one more. A counter idle for longer than the longest wait has
 * served its purpose; past the cap the stalest go first, those still refusing someone last —
 * so a flood of made-up keys cannot free an address that is being held back.
 */
export function attemptsOf(
  db: Db,
  now: number,
  windowMs: number,
  maxCounters = MAX_ATTEMPT_COUNTERS,
): Record<string, AttemptCounter> {
  db.attempts ??= {};
  const attempts = db.attempts;
  if (Object.keys(attempts).length >= maxCounters) {
    for (const [key, counter] of Object.entries(attempts)) {
      if (now - counter.lastAt > windowMs && counter.blockedUntil <= now) delete attempts[key];
    }
    const left = Object.entries(attempts);
    if (left.length >= maxCounters) {
      const holding = (counter: AttemptCounter) => (counter.blockedUntil > now ? 1 : 0);
      left.sort(([, a], [, b]) => holding(a) - holding(b) || a.lastAt - b.lastAt);
      // Down to nine tenths, so that a flood sorts once per many failures, not once per failure.
      for (const [key] of left.slice(0, left.length - Math.floor(maxCounters * 0.9))) delete attempts[key];
    }
  }
  return attempts;
}

/** Counts one failure under `key`; past `free` failures each one doubles the wait, up to the maximum. */
export function bump(
  attempts: Record<string, AttemptCounter>,
  key: string,
  now: number,
  free: number,
  delays: { baseMs: number; maxMs: number },
): number {
  const previous = attempts[key];
  const fresh = !previous || now - previous.lastAt > delays.maxMs;
  const count = fresh ? 1 : previous.count + 1;
  const blockedUntil =
    count >= free ? now + Math.min(delays.baseMs * 2 ** Math.min(count - free, 30), delays.maxMs) : 0;
  attempts[key] = { count, lastAt: now, blockedUntil };
  return count;
}

/**
 * Takes one of `limit` uses allowed under `key` per window (counted from the first use);
 * false when none is left.
 */
export function takeFromWindow(
  attempts: Record<string, AttemptCounter>,
  key: string,
  now: number,
  limit: number,
  windowMs: number,
): boolean {
  const previous = attempts[key];
  const windowOver = !previous || now >= previous.blockedUntil;
  if (!windowOver && previous.count >= limit) return false;
  attempts[key] = windowOver
    ? { count: 1, lastAt: now, blockedUntil: now + windowMs }
    : { count: previous.count + 1, lastAt: now, blockedUntil: previous.blockedUntil };
  return true;
}
