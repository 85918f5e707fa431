import type { ServerResponse } from 'node:http';

/**
 * Response bodies assembled per request (the landing page with its tokens)
 * are written into a few buffers that are used again, instead of fresh memory
 * per page: a fresh 10 KB of external memory per page (or a share of a fresh
 * slab) cost more in allocation, garbage collection and cold caches than the
 * copy itself. A buffer is handed out again only once the response that
 * carried it reports it has been written out (`writableFinished`: ended, and
 * every byte handed to the kernel), so a socket still writing an earlier page
 * is never disturbed. Nearly every page is written as soon as it is sent, so
 * one or two buffers serve a whole crowd, and they stay in the CPU's cache.
 *
 * A buffer remembers which parts it holds where. A part that is the very same
 * buffer at the very same place as in the buffer's last body is already there
 * and is not copied again: the landing page's 9 KB of markup stay in place,
 * and only the tokens that differ from the last guest's are written.
 */
export const BODY_BYTES = 16 * 1024;

/** At most this many bodies wait to be reused; an older one still being written is left to the garbage collector. */
const MAX_WAITING = 16;

interface Lease {
  /** All of the reusable memory. */
  whole: Buffer;
  /** The last body cut from it, kept because the next body usually has the same length. */
  body: Buffer;
  /** The parts `body` holds, in order. */
  parts: Buffer[];
  /** The response that carries `body`. */
  response: ServerResponse;
}

/** Oldest first: the oldest is the likeliest to be written out, and is looked at first. */
const waiting: Lease[] = [];

/**
 * One buffer holding `parts` back to back, to be sent as `response`'s body and nowhere else.
 * The parts' bytes must never change once passed (they may be skipped as already in place).
 */
export function joinIntoBody(response: ServerResponse, parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length > BODY_BYTES) return Buffer.concat(parts, length);
  let done = 0;
  while (done < waiting.length && !waiting[done]!.response.writableFinished) done++;
  let lease = waiting[done];
  if (lease !== undefined) {
    if (done === 0) waiting.shift();
    else waiting.splice(done, 1);
    lease.response = response;
    if (lease.body.length !== length) lease.body = lease.whole.subarray(0, length);
  } else {
    if (waiting.length >= MAX_WAITING) waiting.shift();
    const whole = Buffer.allocUnsafeSlow(BODY_BYTES);
    lease = { whole, body: whole.subarray(0, length), parts: [], response };
  }
  waiting.push(lease);
  const { body, parts: held } = lease;
  // While every part so far has the length it had last time, each lies where it lay last time.
  let inPlace = true;
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const before = held[i];
    if (!inPlace || before !== part) body.set(part, at);
    inPlace &&= before !== undefined && before.length === part.length;
    held[i] = part;
    at += part.length;
  }
  held.length = parts.length;
  return body;
}
