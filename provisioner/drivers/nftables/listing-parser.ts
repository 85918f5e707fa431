import { Worker } from 'node:worker_threads';

/** One element of an nft set as the driver reads it. */
export interface SetElement {
  val: string;
  /** Seconds until the element lapses; 0 for one without a timeout. */
  expires: number;
  comment?: string;
  packets: number;
  bytes: number;
}

/**
 * Runs in the worker: parses `nft -j list set` and answers with the elements
 * in columns (numbers in one transferred buffer), which cost the daemon's
 * thread far less to receive than the listing costs to parse.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, text }) => {
  try {
    const out = JSON.parse(text);
    const entry = (out.nftables || []).find((o) => o !== null && typeof o === 'object' && 'set' in o);
    const elems = (entry && entry.set.elem) || [];
    const n = elems.length;
    const vals = new Array(n);
    const comments = new Array(n);
    const numbers = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      const raw = elems[i];
      const e = raw !== null && typeof raw === 'object' && 'elem' in raw ? raw.elem : { val: raw };
      const v = e.val;
      vals[i] =
        typeof v === 'string'
          ? v
          : v !== null && typeof v === 'object' && 'prefix' in v
            ? v.prefix.addr + '/' + v.prefix.len
            : String(v);
      comments[i] = typeof e.comment === 'string' ? e.comment : null;
      numbers[i * 3] = e.expires || 0;
      numbers[i * 3 + 1] = (e.counter && e.counter.packets) || 0;
      numbers[i * 3 + 2] = (e.counter && e.counter.bytes) || 0;
    }
    parentPort.postMessage({ id, vals, comments, numbers }, [numbers.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

interface Answer {
  id: number;
  error?: string;
  vals?: string[];
  comments?: Array<string | null>;
  numbers?: Float64Array;
}

/**
 * Parses set listings on a worker thread. A listing of ten thousand guests is
 * ~1.6 MB of JSON, 10–40 ms of parsing that would otherwise hold up every
 * change and call the daemon has in hand meanwhile. The worker starts at the
 * first listing, holds the process open only while a listing is being parsed,
 * and is replaced if it fails.
 */
export class ListingParser {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (e: SetElement[]) => void; reject: (err: Error) => void }>();

  parse(text: string): Promise<SetElement[]> {
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, text });
    });
  }

  close(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
  }

  #start(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (answer: Answer) => this.#answer(answer));
    const fail = (why: string): void => {
      if (this.#worker === worker) this.#worker = undefined;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(new Error(`listing parser: ${why}`));
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`worker exited (${code})`));
    this.#worker = worker;
    return worker;
  }

  #answer(answer: Answer): void {
    const p = this.#pending.get(answer.id);
    if (!p) return;
    this.#pending.delete(answer.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (answer.error !== undefined) {
      p.reject(new Error(`cannot read the nft listing: ${answer.error}`));
      return;
    }
    const vals = answer.vals ?? [];
    const comments = answer.comments ?? [];
    const numbers = answer.numbers ?? new Float64Array(0);
    const elements: SetElement[] = new Array<SetElement>(vals.length);
    for (let i = 0; i < vals.length; i++) {
      const comment = comments[i];
      elements[i] = {
        val: vals[i]!,
        expires: numbers[i * 3]!,
        ...(comment === null || comment === undefined ? {} : { comment }),
        packets: numbers[i * 3 + 1]!,
        bytes: numbers[i * 3 + 2]!,
      };
    }
    p.resolve(elements);
  }
}
