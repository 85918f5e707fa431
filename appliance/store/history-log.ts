import { open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_MODE } from './durable-file.js';
import { GroupCommit } from './group-commit.js';

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
export class HistoryLog<T extends object = Record<string, unknown>> {
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

  /**
   * The records after the newest one that `reached` accepts, oldest first. Reads the live file
   * and only as many rotated files, newest first, as it takes to find that record.
   */
  async readSince(reached: (record: T) => boolean): Promise<T[]> {
    const newer: T[][] = [];
    for await (const records of this.#filesNewestFirst()) {
      const last = records.findLastIndex(reached);
      newer.unshift(records.slice(last + 1));
      if (last >= 0) break;
    }
    return newer.flat();
  }

  /** The newest record that `matches` accepts, reading back only as far as needed. */
  async findLast(matches: (record: T) => boolean): Promise<T | undefined> {
    for await (const records of this.#filesNewestFirst()) {
      const found = records.findLast(matches);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  async *#filesNewestFirst(): AsyncGenerator<T[]> {
    await this.#commit.drain();
    const files = [...(await this.rotatedFiles()), this.path];
    for (let index = files.length - 1; index >= 0; index -= 1) yield readRecords<T>(files[index]!);
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

async function readRecords<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const records: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      // A torn last line from a crash mid-append carries no acknowledged record.
    }
  }
  return records;
}
