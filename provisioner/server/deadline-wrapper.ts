import { status } from '@grpc/grpc-js';
import { GrpcStatusError } from './status.js';
import type { Wrapper } from './unary.js';

/**
 * Bounds every call by the caller's deadline or `maxMs`, whichever comes first,
 * so a stuck host tool cannot hold a call open forever. The handler's work may
 * still finish in the background; drivers are idempotent, so the caller retries.
 */
export function deadlineWrapper(options: { maxMs: number; now?: () => number }): Wrapper {
  const now = options.now ?? (() => Date.now());
  return (next) => (req, ctx) => {
    const budget = Math.min(ctx.deadline - now(), options.maxMs);
    if (budget <= 0) return Promise.reject(new GrpcStatusError(status.DEADLINE_EXCEEDED, 'deadline already passed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new GrpcStatusError(status.DEADLINE_EXCEEDED, 'deadline exceeded')),
        budget,
      );
      let answer: ReturnType<typeof next>;
      try {
        answer = next(req, ctx);
      } catch (err) {
        clearTimeout(timer);
        reject(err);
        return;
      }
      answer.then(
        (res) => {
          clearTimeout(timer);
          resolve(res);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  };
}
