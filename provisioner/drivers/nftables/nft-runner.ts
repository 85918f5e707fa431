import { NftRefusal, NftSession } from './nft-session.js';

/** Changes joined into one transaction at most; keeps one nft input line well under a megabyte. */
const MAX_BATCH = 256;

/**
 * The driver's handle on nft: two long-lived `nft -i` sessions (nft-session.ts)
 * per namespace, one that commits changes and one that reads sets back, so a
 * listing of ten thousand counters never holds up a guest's AllowClient.
 * `commandPrefix` puts a wrapper in front (`['ip', 'netns', 'exec', ns]`).
 */
export class NftRunner {
  readonly #changes: NftSession;
  readonly #reads: NftSession;
  readonly #queued: Array<{ text: string; resolve: () => void; reject: (err: unknown) => void }> = [];
  #flushing = false;

  constructor(options: { commandPrefix?: readonly string[]; nftPath?: string; timeoutMs?: number } = {}) {
    const common = {
      commandPrefix: options.commandPrefix ?? [],
      ...(options.nftPath ? { nftPath: options.nftPath } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    };
    this.#changes = new NftSession({ ...common, changesOnly: true });
    this.#reads = new NftSession({ ...common, flags: ['-j'] });
  }

  /** The sessions, for tests that end a process to prove it is replaced. */
  get sessions(): { changes: NftSession; reads: NftSession } {
    return { changes: this.#changes, reads: this.#reads };
  }

  /** Applies a script atomically: its lines become one `;`-joined input line, which nft commits as one transaction. */
  async script(text: string): Promise<void> {
    await this.#changes.send(oneLine(text));
  }

  /**
   * Like `script`, but scripts that arrive while one transaction is being
   * committed are joined into the next single transaction (group commit). When
   * a joined batch is refused, its scripts are retried one by one so only the
   * bad one fails.
   */
  batch(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ text, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#queued.length > 0) {
      const group = this.#queued.splice(0, MAX_BATCH);
      try {
        await this.script(group.map((g) => g.text).join('\n'));
        for (const g of group) g.resolve();
      } catch (err) {
        if (group.length === 1 || !(err instanceof NftRefusal)) for (const g of group) g.reject(err);
        else await Promise.all(group.map((g) => this.script(g.text).then(g.resolve, g.reject)));
      }
    }
    this.#flushing = false;
  }

  /** Runs a read (`list …`, `get …`) and returns what nft printed. */
  run(args: readonly string[]): Promise<string> {
    return this.#reads.send(args.join(' '));
  }

  /** A read's JSON answer: the payload objects without the metainfo entry. */
  async json(args: readonly string[]): Promise<Array<Record<string, unknown>>> {
    const out = JSON.parse(await this.run(args)) as { nftables?: Array<Record<string, unknown>> };
    return (out.nftables ?? []).filter((o) => !('metainfo' in o));
  }

  close(): void {
    this.#changes.close();
    this.#reads.close();
  }
}

function oneLine(script: string): string {
  return script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
}
