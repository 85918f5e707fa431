/**
 * MD5 (RFC 1321) in plain TypeScript for the RADIUS hot path. Every request needs about six
 * digests of under 200 octets; node:crypto allocates a native object per digest, and those
 * objects (and the garbage they leave) cost more than the hashing itself. This streams into a
 * reused block and keeps nothing between calls. MD5 is what RADIUS mandates, not a choice.
 */
const K = new Int32Array(64).map((_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const SHIFT = new Uint8Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);
const INITIAL = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
const X = new Int32Array(16);

function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const o = offset + i * 4;
    X[i] = block[o]! | (block[o + 1]! << 8) | (block[o + 2]! << 16) | (block[o + 3]! << 24);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const sum = (a + f + K[i]! + X[g]!) | 0;
    const r = SHIFT[((i >> 4) << 2) | (i & 3)]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << r) | (sum >>> (32 - r)))) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

export class Md5 {
  readonly #state = Int32Array.from(INITIAL);
  readonly #block = new Uint8Array(64);
  #filled = 0;
  #length = 0;

  /** Starts over, optionally from a saved state after `processed` octets (whole blocks). */
  reset(state: Int32Array = INITIAL, processed = 0): this {
    this.#state.set(state);
    this.#filled = 0;
    this.#length = processed;
    return this;
  }

  /** Hashes `data[start..end)`; ranges avoid creating a view per call on the hot path. */
  update(data: Uint8Array, start = 0, end = data.length): this {
    let offset = start;
    this.#length += end - start;
    const block = this.#block;
    if (this.#filled > 0) {
      while (this.#filled < 64 && offset < end) block[this.#filled++] = data[offset++]!;
      if (this.#filled < 64) return this;
      compress(this.#state, block, 0);
      this.#filled = 0;
    }
    for (; offset + 64 <= end; offset += 64) compress(this.#state, data, offset);
    while (offset < end) block[this.#filled++] = data[offset++]!;
    return this;
  }

  /** The state after whole blocks only (for HMAC key pads). */
  snapshot(): Int32Array {
    if (this.#filled !== 0) throw new Error('snapshot needs whole blocks');
    return Int32Array.from(this.#state);
  }

  digestInto(out: Uint8Array, offset = 0): Uint8Array {
    const bits = this.#length * 8;
    const block = this.#block;
    block[this.#filled++] = 0x80;
    if (this.#filled > 56) {
      block.fill(0, this.#filled);
      compress(this.#state, block, 0);
      this.#filled = 0;
    }
    block.fill(0, this.#filled, 56);
    const low = bits >>> 0;
    const high = Math.floor(bits / 2 ** 32) >>> 0;
    for (let i = 0; i < 4; i++) {
      block[56 + i] = (low >>> (8 * i)) & 0xff;
      block[60 + i] = (high >>> (8 * i)) & 0xff;
    }
    compress(this.#state, block, 0);
    for (let i = 0; i < 4; i++) {
      const word = this.#state[i]!;
      out[offset + i * 4] = word & 0xff;
      out[offset + i * 4 + 1] = (word >>> 8) & 0xff;
      out[offset + i * 4 + 2] = (word >>> 16) & 0xff;
      out[offset + i * 4 + 3] = (word >>> 24) & 0xff;
    }
    return out;
  }

  digest(): Buffer {
    return this.digestInto(Buffer.allocUnsafe(16)) as Buffer;
  }
}
