import { open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FILE_MODE } from './durable-file.js';
import { GroupCommit } from './group-commit.js';
import { lastRecord, recordsSince } from './history-search.js';
import type { History } from './store.js';

export interface HistoryLogOptions {
  /** Rotate when the live file passes this size. */
  maxBytes: number;
  /** Rotated files kept; older ones are deleted. */
  keep: number;
}

/**
 * An append-only, rotated JSON-lines file for records that grow without
 * bound (audit log, accounting, closed sessions, payment events). `append`
 * resolves once the line is fsynced; concurrent appends share one fsync.
 */
export class HistoryLog<T extends object = Record<string, unknown>> implements History<T> {
  readonly path: string;
  readonly #dir: string;
  readonly #name: string;
  readonly #options: HistoryLogOptions;
  readonly #commit: GroupCommit;
  #handle: FileHandle | null = null;
  #size = 0;
  #buffer: string[] = [];

  /** `onFlush` hears each shared fsync: how many appends it carried and how long it took. */
  constructor(dir: string, name: string, options: HistoryLogOptions, onFlush?: (size: number, ms: number) => void) {
    this.#dir = dir;
    this.#name = name;
    this.#options = options;
    this.path = join(dir, `${name}.jsonl`);
    this.#commit = new GroupCommit(() => this.#flush(), onFlush);
  }

  append(record: T): Promise<void> {
    this.#buffer.push(`${JSON.stringify(record)}\n`);
    return this.#commit.commit();
  }

  /** Records of the live file and the rotated ones, oldest first. */
  async readAll(): Promise<T[]> {
    await this.#commit.drain();
    const records: T[] = [];
    for (const file of [...(await this.rotatedFiles()), this.path]) records.push(...(await readRecords<T>(file)));
    return records;
  }

  /** Records oldest first, a line at a time from each file in turn; rotated files wholly `before` are skipped. */
  async *stream(before?: (record: T) => boolean): AsyncGenerator<T> {
    await this.#commit.drain();
    const files = [...(await this.rotatedFiles()), this.path];
    let first = 0;
    if (before) {
      // The newest record of each rotated file, read from its end, says whether the whole file is before.
      while (first < files.length - 1) {
        const newest = await lastRecord(pagesNewestFirst<T>(files[first]!), () => true);
        if (newest === undefined || !before(newest)) break;
        first += 1;
      }
    }
    for (const file of files.slice(first)) yield* recordsOldestFirst<T>(file);
  }

  /**
   * The records after the newest one that `reached` accepts, oldest first. Reads backwards from
   * the end of the live file, and into rotated files only as far as it takes to find that record.
   */
  readSince(reached: (record: T) => boolean): Promise<T[]> {
    return recordsSince(this.#newestFirst(), reached);
  }

  /** The newest record that `matches` accepts, reading back only as far as needed. */
  findLast(matches: (record: T) => boolean): Promise<T | undefined> {
    return lastRecord(this.#newestFirst(), matches);
  }

  async *#newestFirst(): AsyncGenerator<T[]> {
    await this.#commit.drain();
    const files = [...(await this.rotatedFiles()), this.path];
    for (let index = files.length - 1; index >= 0; index -= 1) yield* pagesNewestFirst<T>(files[index]!);
  }

  async rotatedFiles(): Promise<string[]> {
    const entries = await readdir(this.#dir).catch(() => [] as string[]);
    return entries
      .filter(
        (entry) => entry.startsWith(`${this.#name}.`) && entry.endsWith('.jsonl') && entry !== `${this.#name}.jsonl`,
      )
      .sort()
      .map((entry) => join(this.#dir, entry));
  }

  async close(): Promise<void> {
    await this.#commit.drain();
    await this.#handle?.close();
    this.#handle = null;
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    this.#handle = await open(this.path, 'a', FILE_MODE);
    this.#size = (await stat(this.path)).size;
    return this.#handle;
  }

  async #flush(): Promise<void> {
    const chunk = this.#buffer.join('');
    this.#buffer = [];
    if (chunk === '') return;
    const handle = await this.#open();
    await handle.write(chunk);
    await handle.sync();
    this.#size += Buffer.byteLength(chunk);
    if (this.#size >= this.#options.maxBytes) await this.#rotate();
  }

  async #rotate(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
    const rotated = await this.rotatedFiles();
    const last = rotated.at(-1);
    const lastIndex = last
      ? Number.parseInt(last.slice(last.lastIndexOf(`${this.#name}.`) + this.#name.length + 1), 10)
      : 0;
    // A zero-padded sequence keeps rotated files in order and never overwrites one.
    const index = String((Number.isNaN(lastIndex) ? 0 : lastIndex) + 1).padStart(8, '0');
    await rename(this.path, join(this.#dir, `${this.#name}.${index}.jsonl`));
    const all = await this.rotatedFiles();
    for (const old of all.slice(0, Math.max(0, all.length - this.#options.keep))) await unlink(old);
  }
}

/** One JSON line, or null for a blank or torn one (a crash mid-append leaves no acknowledged record). */
function parseLine<T>(line: string): T | null {
  if (line.trim() === '') return null;
  try {
    return JSON.parse(line) as T;
  } catch {
    return null;
  }
}

async function readRecords<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => parseLine<T>(line) ?? []);
}

/** The records of `file` in order, streamed (a file rotated away while open is still read whole). */
async function* recordsOldestFirst<T>(file: string): AsyncGenerator<T> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return;
  const lines = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const record = parseLine<T>(line);
      if (record !== null) yield record;
    }
  } finally {
    lines.close();
    await handle.close().catch(() => undefined);
  }
}

const BACKWARD_CHUNK = 64 * 1024;

/** The records of `file`, newest first, a chunk's worth per page, read from its end so that a search can stop early. */
async function* pagesNewestFirst<T>(file: string): AsyncGenerator<T[]> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return;
  try {
    let position = (await handle.stat()).size;
    // The start of the line the previous chunk began in the middle of.
    let rest = Buffer.alloc(0);
    while (position > 0) {
      const length = Math.min(BACKWARD_CHUNK, position);
      position -= length;
      const chunk = Buffer.allocUnsafe(length);
      await handle.read(chunk, 0, length, position);
      const data = Buffer.concat([chunk, rest]);
      const page: T[] = [];
      // A newline byte never occurs inside a multi-byte UTF-8 character, so splitting bytes is safe.
      let end = data.length;
      for (let at = data.lastIndexOf(0x0a, end - 1); at >= 0; at = data.lastIndexOf(0x0a, end - 1)) {
        const record = parseLine<T>(data.toString('utf8', at + 1, end));
        if (record !== null) page.push(record);
        end = at;
        if (end === 0) break;
      }
      if (page.length > 0) yield page;
      rest = data.subarray(0, end);
    }
    const first = parseLine<T>(rest.toString('utf8'));
    if (first !== null) yield [first];
  } finally {
    await handle.close();
  }
}
