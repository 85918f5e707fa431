import { execFile, spawn } from 'node:child_process';
import { TurnpikeError } from '../../../appliance/errors.js';
import { inSpan } from '../../../appliance/telemetry/tracing.js';

/** Changes joined into one transaction at most; keeps one nft input well under a megabyte. */
const MAX_BATCH = 256;

/**
 * Runs `nft` with an argument vector, never a shell. `commandPrefix` puts a
 * wrapper in front (tests and the benchmark use `['ip', 'netns', 'exec', ns]`).
 */
export class NftRunner {
  readonly #prefix: readonly string[];
  readonly #nft: string;
  readonly #maxParallel: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #queued: Array<{ text: string; resolve: () => void; reject: (err: unknown) => void }> = [];
  #flushing = false;

  constructor(options: { commandPrefix?: readonly string[]; nftPath?: string; maxParallel?: number } = {}) {
    this.#prefix = options.commandPrefix ?? [];
    this.#nft = options.nftPath ?? 'nft';
    this.#maxParallel = options.maxParallel ?? 4;
  }

  /**
   * The kernel commits nft transactions one at a time anyway; bounding the
   * processes keeps a burst of calls from forking hundreds of them.
   */
  async #slot<T>(work: () => Promise<T>): Promise<T> {
    // A finishing job hands its slot straight to the next waiter, so the count never overshoots.
    if (this.#running >= this.#maxParallel) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running += 1;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }

  #argv(args: readonly string[]): [string, string[]] {
    const [file = this.#nft, ...rest] = [...this.#prefix, this.#nft, ...args];
    return [file, rest];
  }

  /** Applies a script atomically (`nft -f -`, one transaction). */
  script(text: string): Promise<void> {
    return this.#slot(() => this.#script(text));
  }

  /**
   * Like `script`, but scripts that arrive while one transaction is being
   * committed are joined into the next single transaction (group commit): an
   * idle gateway pays one exec per change, a burst pays one exec per batch.
   * When a joined batch fails, its scripts are retried one by one so only the
   * bad one is refused.
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
        await this.script(group.map((g) => g.text).join(''));
        for (const g of group) g.resolve();
      } catch (err) {
        if (group.length === 1) group[0]?.reject(err);
        else for (const g of group) await this.script(g.text).then(g.resolve, g.reject);
      }
    }
    this.#flushing = false;
  }

  /** Runs `nft <args>` and returns stdout. */
  run(args: readonly string[]): Promise<string> {
    return this.#slot(() => this.#run(args));
  }

  #script(text: string): Promise<void> {
    return inSpan('exec nft', { 'process.executable.name': 'nft' }, () => this.#spawnScript(text));
  }

  #spawnScript(text: string): Promise<void> {
    const [file, args] = this.#argv(['-f', '-']);
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => reject(unavailable(err)));
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`nft -f failed (${code}): ${stderr.trim().slice(0, 2000)}`));
      });
      child.stdin.end(text);
    });
  }

  #run(args: readonly string[]): Promise<string> {
    const [file, argv] = this.#argv(args);
    return new Promise((resolve, reject) => {
      execFile(file, argv, { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(unavailable(err));
        reject(new Error(`nft ${args.join(' ')} failed: ${String(stderr).trim().slice(0, 2000)}`));
      });
    });
  }

  /** `nft -j <args>` parsed; the payload objects without the metainfo entry. */
  async json(args: readonly string[]): Promise<Array<Record<string, unknown>>> {
    const out = JSON.parse(await this.run(['-j', ...args])) as { nftables?: Array<Record<string, unknown>> };
    return (out.nftables ?? []).filter((o) => !('metainfo' in o));
  }
}

function unavailable(err: Error): TurnpikeError {
  return new TurnpikeError('TP_ERR_UNAVAILABLE', `cannot run nft: ${err.message}`);
}
