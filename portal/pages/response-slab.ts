/**
 * Response bodies assembled per request (the landing page with its tokens)
 * are carved out of shared slabs instead of each getting its own ArrayBuffer:
 * allocating ~10 KB of external memory per page cost more than copying the
 * bytes into it. Each body gets a region nobody else is ever given, so a
 * socket still writing an earlier page is never disturbed; a slab is freed by
 * the garbage collector once its last body is gone (Node's own Buffer pool
 * works the same way for small buffers).
 */
const SLAB_BYTES = 256 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** One buffer holding `parts` back to back. */
export function joinIntoSlab(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length > SLAB_BYTES / 4) return Buffer.concat(parts, length);
  if (used + length > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + length);
  // Keeps the next region 8-byte aligned, as typed-array views of it would need.
  used += (length + 7) & ~7;
  let at = 0;
  for (const part of parts) at += part.copy(out, at);
  return out;
}
