/**
 * Call tokens the auth wrapper has already verified, with the instant each
 * stops being acceptable. The appliance reuses one token for many calls, and
 * an EdDSA check through WebCrypto costs a few hundred microseconds, more than
 * the firewall change it guards; a token seen before is the same bytes, so
 * its signature need not be checked again, only the clock.
 */
export class VerifiedTokens {
  readonly #until = new Map<string, number>();
  readonly #max: number;

  constructor(max = 1024) {
    this.#max = max;
  }

  accepts(token: string, now: number): boolean {
    const until = this.#until.get(token);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(token);
    return false;
  }

  remember(token: string, until: number, now: number): void {
    if (this.#until.size >= this.#max) {
      for (const [t, u] of this.#until) if (u <= now) this.#until.delete(t);
      // Still full of live tokens: the oldest go first (a Map iterates in insertion order).
      for (const t of this.#until.keys()) {
        if (this.#until.size < this.#max) break;
        this.#until.delete(t);
      }
    }
    this.#until.set(token, until);
  }
}
