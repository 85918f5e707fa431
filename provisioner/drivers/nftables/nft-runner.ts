import { execFile, spawn } from 'node:child_process';
import { TurnpikeError } from '../../../appliance/errors.js';

/**
 * Runs `nft` with an argument vector, never a shell. `commandPrefix` puts a
 * wrapper in front (tests and the benchmark use `['ip', 'netns', 'exec', ns]`).
 */
export class NftRunner {
  readonly #prefix: readonly string[];
  readonly #nft: string;

  constructor(options: { commandPrefix?: readonly string[]; nftPath?: string } = {}) {
    this.#prefix = options.commandPrefix ?? [];
    this.#nft = options.nftPath ?? 'nft';
  }

  #argv(args: readonly string[]): [string, string[]] {
    const [file = this.#nft, ...rest] = [...this.#prefix, this.#nft, ...args];
    return [file, rest];
  }

  /** Applies a script atomically (`nft -f -`, one transaction). */
  script(text: string): Promise<void> {
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

  /** Runs `nft <args>` and returns stdout. */
  run(args: readonly string[]): Promise<string> {
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
