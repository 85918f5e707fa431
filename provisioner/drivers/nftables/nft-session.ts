import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { TurnpikeError } from '../../../shared/errors.js';

/**
 * After every command the session sends two probes whose output is known, one
 * per stream: `describe ip saddr` prints DESCRIBED on stdout, and a bare word
 * is a syntax error that nft echoes on stderr. nft runs input lines in order,
 * so whatever a stream carried before its probe belongs to the command. A
 * changes-only session sends the stderr probe alone.
 */
const PROBE_OUT = 'describe ip saddr';
const DESCRIBED = 'payload expression, datatype ipv4_addr (IPv4 address) (basetype integer), 32 bits';
const MARKER = /^tp_sync_(\d+)$/;

/**
 * nft keeps every line it reads in its (libedit) history, and looks the history
 * up again for each new line: a line costs time in proportion to the lines read
 * before it (nft 1.0.6 here: 10 µs a line over the first 1,000 lines, 37 µs over
 * 10,000, 240 µs over 40,000), and memory grows with the bytes. A session is
 * therefore replaced after this many lines (three per command: it and the two
 * probes) or bytes, whichever comes first.
 */
const RECYCLE_LINES = 1_500;
const RECYCLE_BYTES = 16 * 1024 * 1024;

export interface NftSessionOptions {
  /** Wrapper in front of `nft`, e.g. `['ip', 'netns', 'exec', 'gw']`. */
  commandPrefix?: readonly string[];
  nftPath?: string;
  /** Extra flags, e.g. `['-j']` for JSON listings. */
  flags?: readonly string[];
  /** An answer that takes longer than this ends the process (it is then restarted). */
  timeoutMs?: number;
  /** Input bytes after which an idle session is replaced by a fresh process. */
  recycleBytes?: number;
  /** Input lines after which an idle session is replaced by a fresh process. */
  recycleLines?: number;
  /**
   * The session only makes changes, which print nothing on stdout: the stdout
   * probe is left out, and each answer is a single stream's (fewer writes by
   * nft, fewer wake-ups of the daemon, one line less in nft's history).
   */
  changesOnly?: boolean;
}

/** nft answered a command with an error: the text of its `Error:` lines and what they point at. */
export class NftRefusal extends Error {
  readonly offending: string[];
  constructor(message: string, offending: string[]) {
    super(message);
    this.offending = offending;
  }
}

interface Pending {
  line: string;
  id: number;
  attempts: number;
  stdout: string[] | undefined;
  stderr: string[] | undefined;
  resolve: (stdout: string) => void;
  reject: (err: unknown) => void;
}

interface Proc {
  child: ChildProcessWithoutNullStreams;
  inflight: Pending[];
  out: string[];
  err: string[];
  outPartial: string;
  errPartial: string;
  skipCaret: boolean;
  written: number;
  lines: number;
  timer: NodeJS.Timeout | undefined;
  dead: boolean;
}

/**
 * One long-lived `nft -i` process, fed one command line at a time (a line with
 * several `;`-separated commands is one transaction). Answers come back in
 * order, so commands are pipelined. If the process dies or hangs it is
 * replaced, and what was in flight is sent once more to the new one: every
 * command the drivers send is idempotent. Runs an argument vector, never a
 * shell; an idle session does not keep the daemon's event loop alive.
 */
export class NftSession {
  readonly #argv: [string, string[]];
  readonly #timeoutMs: number;
  readonly #recycleBytes: number;
  readonly #recycleLines: number;
  readonly #changesOnly: boolean;
  #proc: Proc | undefined;
  /** The process that takes over when `#proc` is spent, started ahead so the hand-over costs no command a start. */
  #spare: Proc | undefined;
  #nextId = 0;
  #closed = false;
  /** Processes started so far (tests watch restarts through it). */
  starts = 0;

  constructor(options: NftSessionOptions = {}) {
    const [file = 'nft', ...args] = [
      ...(options.commandPrefix ?? []),
      options.nftPath ?? 'nft',
      ...(options.flags ?? []),
      '-i',
    ];
    this.#argv = [file, args];
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#recycleBytes = options.recycleBytes ?? RECYCLE_BYTES;
    this.#recycleLines = options.recycleLines ?? RECYCLE_LINES;
    this.#changesOnly = options.changesOnly ?? false;
  }

  /** The process id of the current nft (or its wrapper), if one runs. */
  get pid(): number | undefined {
    return this.#proc?.dead === false ? this.#proc.child.pid : undefined;
  }

  /** Runs one line; resolves with what it printed on stdout, rejects with `NftRefusal` on an nft error. */
  send(line: string): Promise<string> {
    if (this.#closed) return Promise.reject(new TurnpikeError('TP_ERR_UNAVAILABLE', 'nft session is closed'));
    // A newline would split the command, a trailing backslash would join the probe to it.
    if (/[\n\r]|\\\s*$/.test(line)) return Promise.reject(new Error('nft command must be one line'));
    return new Promise((resolve, reject) => {
      this.#dispatch({ line, id: 0, attempts: 0, stdout: undefined, stderr: undefined, resolve, reject });
    });
  }

  /** Ends the process once what is in flight has been answered. */
  close(): void {
    this.#closed = true;
    for (const proc of [this.#proc, this.#spare]) if (proc && !proc.dead) proc.child.stdin.end();
    this.#proc = undefined;
    this.#spare = undefined;
  }

  #spent(proc: Proc): boolean {
    return proc.written > this.#recycleBytes || proc.lines > this.#recycleLines;
  }

  #dispatch(p: Pending): void {
    let proc = this.#proc;
    // Replaced only while nothing is in flight: commands then commit in the order they were sent.
    if (proc && this.#spent(proc) && proc.inflight.length === 0) {
      proc.child.stdin.end();
      proc = this.#spare?.dead === false ? this.#spare : undefined;
      this.#spare = undefined;
      this.#proc = proc;
    }
    if (!proc || proc.dead) {
      try {
        proc = this.#spawn();
      } catch (err) {
        p.reject(unavailable((err as Error).message));
        return;
      }
      this.#proc = proc;
    }
    this.#write(proc, p);
    if (!this.#spare && proc.lines > this.#recycleLines * 0.8) this.#prepareSpare();
  }

  #write(proc: Proc, p: Pending): void {
    p.id = ++this.#nextId;
    p.attempts += 1;
    p.stdout = this.#changesOnly ? [] : undefined;
    p.stderr = undefined;
    proc.inflight.push(p);
    const text = this.#changesOnly ? `${p.line}\ntp_sync_${p.id}\n` : `${p.line}\n${PROBE_OUT}\ntp_sync_${p.id}\n`;
    proc.written += text.length;
    proc.lines += this.#changesOnly ? 2 : 3;
    proc.child.stdin.write(text);
    // The timer watches the oldest unanswered command; later ones must not keep pushing it back.
    if (proc.inflight.length === 1) this.#arm(proc);
  }

  /** Starts the successor and has it answer an empty line, so it is loaded and running when it takes over. */
  #prepareSpare(): void {
    let spare: Proc;
    try {
      spare = this.#spawn();
    } catch {
      return; // the hand-over will start one itself, and report it if that fails too
    }
    this.#spare = spare;
    const warm: Pending = {
      line: '',
      id: 0,
      attempts: 1, // never sent again: a spare that dies is simply not used
      stdout: undefined,
      stderr: undefined,
      resolve: () => undefined,
      reject: () => undefined,
    };
    this.#write(spare, warm);
  }

  #spawn(): Proc {
    // HOME points nowhere so nft neither reads nor writes a history file of firewall commands.
    const child = spawn(this.#argv[0], this.#argv[1], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, HOME: '/nonexistent' },
    });
    this.starts += 1;
    const proc: Proc = {
      child,
      inflight: [],
      out: [],
      err: [],
      outPartial: '',
      errPartial: '',
      skipCaret: false,
      written: 0,
      lines: 0,
      timer: undefined,
      dead: false,
    };
    child.stdin.on('error', () => undefined); // EPIPE surfaces as the exit below.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.#onOut(proc, chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => this.#onErr(proc, chunk));
    child.on('error', (err) => this.#onDeath(proc, err.message));
    child.on('close', (code, signal) => this.#onDeath(proc, `nft exited (${signal ?? code})`));
    child.unref();
    this.#idle(proc, true);
    return proc;
  }

  /** Holds the event loop only while answers are awaited. */
  #idle(proc: Proc, idle: boolean): void {
    for (const stream of [proc.child.stdout, proc.child.stderr]) {
      const handle = stream as unknown as { ref?: () => void; unref?: () => void };
      if (idle) handle.unref?.();
      else handle.ref?.();
    }
  }

  #arm(proc: Proc): void {
    clearTimeout(proc.timer);
    if (proc.inflight.length === 0) {
      proc.timer = undefined;
      this.#idle(proc, true);
      return;
    }
    this.#idle(proc, false);
    proc.timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
      this.#onDeath(proc, `nft did not answer within ${this.#timeoutMs} ms`);
    }, this.#timeoutMs);
  }

  #onOut(proc: Proc, chunk: string): void {
    if (this.#changesOnly) return; // nothing a change prints is an answer
    // A listing is one line of a megabyte or more: its pieces are joined once, not split again at each one.
    if (!chunk.includes('\n')) {
      proc.outPartial += chunk;
      return;
    }
    const lines = (proc.outPartial + chunk).split('\n');
    proc.outPartial = lines.pop() ?? '';
    for (const line of lines) {
      if (line !== DESCRIBED) {
        proc.out.push(line);
        continue;
      }
      const p = proc.inflight.find((x) => x.stdout === undefined);
      if (p) p.stdout = proc.out;
      proc.out = [];
      this.#settle(proc);
    }
  }

  #onErr(proc: Proc, chunk: string): void {
    const lines = (proc.errPartial + chunk).split('\n');
    proc.errPartial = lines.pop() ?? '';
    for (const line of lines) {
      if (proc.skipCaret) {
        proc.skipCaret = false;
        continue;
      }
      if (!MARKER.test(line)) {
        proc.err.push(line);
        continue;
      }
      proc.err.pop(); // the marker's own "Error: syntax error" line
      proc.skipCaret = true;
      const p = proc.inflight.find((x) => x.stderr === undefined);
      if (p) p.stderr = proc.err;
      proc.err = [];
      this.#settle(proc);
    }
  }

  #settle(proc: Proc): void {
    while (proc.inflight[0]?.stdout !== undefined && proc.inflight[0].stderr !== undefined) {
      const p = proc.inflight.shift()!;
      const errors = p.stderr!;
      if (errors.some((l) => l.startsWith('Error'))) p.reject(refusal(errors));
      else p.resolve(p.stdout!.join('\n'));
    }
    this.#arm(proc);
  }

  #onDeath(proc: Proc, why: string): void {
    if (proc.dead) return;
    proc.dead = true;
    clearTimeout(proc.timer);
    if (this.#proc === proc) this.#proc = undefined;
    if (this.#spare === proc) this.#spare = undefined;
    const orphans = proc.inflight.splice(0);
    const detail = proc.err.join('\n').trim().slice(0, 500);
    for (const p of orphans) {
      // Sent once more to a fresh process; a second death is the answer.
      if (p.attempts < 2 && !this.#closed) this.#dispatch(p);
      else p.reject(unavailable(detail ? `${why}: ${detail}` : why));
    }
  }
}

function unavailable(why: string): TurnpikeError {
  return new TurnpikeError('TP_ERR_UNAVAILABLE', `cannot run nft: ${why}`);
}

/**
 * nft prints each error as `Error: …`, the input line, and carets under the
 * part it refuses; the carets name the offending element of a long batch line.
 */
function refusal(lines: string[]): NftRefusal {
  const messages: string[] = [];
  const offending: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!line.startsWith('Error')) continue;
    messages.push(line);
    const input = lines[i + 1] ?? '';
    const carets = lines[i + 2] ?? '';
    const start = carets.search(/[\^~]/);
    if (start >= 0 && /^[\s^~]*$/.test(carets)) offending.push(input.slice(start, carets.trimEnd().length).trim());
  }
  // A value repeated on many lines of one transaction is reported once.
  const unique = [...new Set(offending)];
  const where = unique.length > 0 ? ` (at ${unique.map((o) => JSON.stringify(o)).join(', ')})` : '';
  return new NftRefusal(`${[...new Set(messages)].join('; ').slice(0, 1000)}${where}`, unique);
}
