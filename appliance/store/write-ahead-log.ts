import { open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TurnpikeError } from '../../shared/errors.js';
import { isLoggedRecord, type LoggedChange, type LoggedRecord } from './change-record.js';
import { FILE_MODE, syncDirectory } from './durable-file.js';
import { GroupCommit } from './group-commit.js';

const SEGMENT = /^wal\.(\d{16})\.jsonl$/;
const segmentName = (firstSeq: number): string => `wal.${String(firstSeq).padStart(16, '0')}.jsonl`;

interface Segment {
  path: string;
  lastSeq: number;
}

export interface LogTail {
  /** Change records past the checkpoint, oldest first. */
  records: LoggedRecord[];
  /** The sequence number of the newest record in the log (or the checkpoint's when none is newer). */
  lastSeq: number;
  segments: Segment[];
}

export interface ReadLogOptions {
  /** Cut a torn last line off its file (a writer killed mid-append); read-only readers only skip it. */
  repair: boolean;
  onTornLine: (file: string, offset: number) => void;
}

/**
 * Reads the change records newer than `checkpointSeq` (null: every record the log still holds,
 * wherever it starts). A torn last line (a crash mid-append, never
 * acknowledged) is dropped and reported; anything else that does not parse, or a gap in the
 * sequence, stops here naming the file and byte offset, and no file is changed.
 */
export async function readLog(dir: string, checkpoint: number | null, options: ReadLogOptions): Promise<LogTail> {
  const checkpointSeq = checkpoint ?? 0;
  const names = (await readdir(dir)).filter((name) => SEGMENT.test(name)).sort();
  const records: LoggedRecord[] = [];
  const segments: Segment[] = [];
  let lastSeq: number | null = null;
  let torn: { path: string; offset: number } | null = null;
  for (const [index, name] of names.entries()) {
    const path = join(dir, name);
    const text = await readFile(path, 'utf8');
    const size = Buffer.byteLength(text);
    let offset = 0;
    for (const line of text.split('\n')) {
      const lineOffset = offset;
      offset += Buffer.byteLength(line) + 1;
      if (line === '') continue;
      const record = parseRecord(line);
      // Only the very end of the log can be cut short: that line has no newline after it.
      const isLastLine = index === names.length - 1 && offset > size;
      if (record === null && isLastLine) {
        torn = { path, offset: lineOffset };
        continue;
      }
      if (record === null) throw corruptLog(path, lineOffset, 'the line is not a change record');
      if (lastSeq !== null && record.seq !== lastSeq + 1) {
        throw corruptLog(path, lineOffset, `expected change ${lastSeq + 1}, found ${record.seq}`);
      }
      if (lastSeq === null && checkpoint !== null && record.seq > checkpointSeq + 1) {
        throw corruptLog(path, lineOffset, `changes ${checkpointSeq + 1} to ${record.seq - 1} are missing`);
      }
      lastSeq = record.seq;
      if (record.seq > checkpointSeq) records.push(record);
    }
    segments.push({ path, lastSeq: lastSeq ?? checkpointSeq });
  }
  if (torn) {
    options.onTornLine(torn.path, torn.offset);
    if (options.repair) await truncate(torn.path, torn.offset);
  }
  return { records, lastSeq: Math.max(lastSeq ?? 0, checkpointSeq), segments };
}

function parseRecord(line: string): LoggedRecord | null {
  try {
    const parsed: unknown = JSON.parse(line);
    return isLoggedRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function corruptLog(path: string, offset: number, reason: string): TurnpikeError {
  return new TurnpikeError(
    'TP_ERR_STORE_CORRUPT',
    `${path} is damaged at byte ${offset} (${reason}). It was left untouched. Restore a backup with: turnpike restore BACKUP_FILE`,
    { path, offset },
  );
}

/**
 * The write-ahead log: each change record is one JSON line (rows that existed as patches, see
 * `loggedChangesOf`), and `append` resolves once its line is fsynced (concurrent appends share one
 * fsync). The log is cut into segments; a checkpoint starts a new one (`roll`) and, once `db.json`
 * holds everything up to a sequence number, the segments before it are deleted (`dropThrough`).
 */
export class WriteAheadLog {
  readonly #dir: string;
  readonly #commit: GroupCommit;
  readonly #closed: Segment[];
  #buffer: string[] = [];
  #nextSeq: number;
  #handle: FileHandle | null = null;
  #current: Segment | null = null;
  #bytesSinceRoll = 0;

  constructor(dir: string, tail: LogTail, onFlush: (size: number, ms: number) => void) {
    this.#dir = dir;
    this.#nextSeq = tail.lastSeq + 1;
    // Appends always start a segment of their own: an old one may end in a line cut by a crash.
    this.#closed = [...tail.segments];
    this.#commit = new GroupCommit(() => this.#flush(), onFlush);
  }

  /** The sequence number of the newest record appended (durable or not). */
  get lastSeq(): number {
    return this.#nextSeq - 1;
  }

  /** Bytes appended since the last `roll`: how much a replay would read. */
  get bytesSinceRoll(): number {
    return this.#bytesSinceRoll;
  }

  append(changes: LoggedChange[]): { seq: number; durable: Promise<void> } {
    const seq = this.#nextSeq++;
    const line = `${JSON.stringify({ seq, changes })}\n`;
    this.#buffer.push(line);
    this.#bytesSinceRoll += line.length;
    return { seq, durable: this.#commit.commit() };
  }

  /** Resolves once every record appended so far is on disk. */
  durable(): Promise<void> {
    return this.#commit.drain();
  }

  /** Records not yet written go to a new segment; the current one is closed for `dropThrough`. */
  roll(): void {
    this.#bytesSinceRoll = 0;
    const handle = this.#handle;
    if (!handle) return;
    this.#closed.push(this.#current!);
    this.#handle = null;
    this.#current = null;
    // A flush under way still writes through its own reference; close once it is done.
    void this.#commit.drain().finally(() => handle.close().catch(() => undefined));
  }

  /** Deletes closed segments whose records are all at or before `seq` (held by a checkpoint). */
  async dropThrough(seq: number): Promise<void> {
    while (this.#closed.length > 0 && this.#closed[0]!.lastSeq <= seq) {
      await unlink(this.#closed.shift()!.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  async close(): Promise<void> {
    await this.#commit.drain();
    await this.#handle?.close();
    this.#handle = null;
  }

  async #flush(): Promise<void> {
    const chunk = this.#buffer.join('');
    const lines = this.#buffer.length;
    this.#buffer = [];
    if (chunk === '') return;
    const firstSeq = this.#nextSeq - lines;
    const { handle, segment } = this.#handle
      ? { handle: this.#handle, segment: this.#current! }
      : await this.#startSegment(firstSeq);
    await handle.write(chunk);
    await handle.datasync();
    segment.lastSeq = firstSeq + lines - 1;
  }

  async #startSegment(firstSeq: number): Promise<{ handle: FileHandle; segment: Segment }> {
    const path = join(this.#dir, segmentName(firstSeq));
    // A segment of this name can only be left from a crash before its first line was complete:
    // it holds no record, and starting it afresh loses nothing.
    const stale = this.#closed.findIndex((segment) => segment.path === path);
    if (stale >= 0) this.#closed.splice(stale, 1);
    const handle = await open(path, 'w', FILE_MODE);
    // The new file's name must be durable before any line in it is acknowledged.
    await syncDirectory(this.#dir);
    const segment = { path, lastSeq: firstSeq - 1 };
    this.#handle = handle;
    this.#current = segment;
    return { handle, segment };
  }
}
