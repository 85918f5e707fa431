import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FILE_MODE, syncDirectory } from './durable-file.js';
import type { RowIds } from './row-ids.js';
import { childPath, kindOf } from './state-layout.js';

/** Longest stretch of serializing before the event loop gets a turn. */
const SLICE_MS = 8;
const WRITE_BYTES = 1 << 20;

/** The field of `db.json` that names the last change record the file holds. */
export const CHECKPOINT_SEQ_FIELD = 'walSeq';

/**
 * Writes `state` to `path` as one JSON object whose `walSeq` is `seq`, without stalling the event
 * loop: rows are serialized a slice at a time while writes go on. Such a file may hold changes
 * newer than `seq`; replaying the log from `seq` over it ends in the same state, because change
 * records carry whole rows. `beforeRename` runs once the file is complete and must make every
 * change the file may hold durable in the log: only then may it replace the previous checkpoint.
 * Same guarantees as `writeFileDurably`: temp file, fsync, rename, fsync of the directory.
 */
export async function writeCheckpoint(
  path: string,
  state: object,
  seq: number,
  rowIds: RowIds,
  beforeRename: () => Promise<void>,
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const handle = await open(tmp, 'w', FILE_MODE);
  try {
    const out = new SlicedWriter(handle);
    out.push(`{"${CHECKPOINT_SEQ_FIELD}":${seq}`);
    await writeMembers(out, rowIds, state as Record<string, unknown>, '', true);
    out.push('}');
    await out.flush();
    await beforeRename();
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

async function writeMembers(
  out: SlicedWriter,
  rowIds: RowIds,
  object: Record<string, unknown>,
  path: string,
  afterFirst: boolean,
): Promise<void> {
  let comma = afterFirst;
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined) continue;
    out.push(`${comma ? ',' : ''}${JSON.stringify(key)}:`);
    comma = true;
    const kind = kindOf(childPath(path, key));
    if (kind === 'document' || typeof value !== 'object' || value === null) {
      out.push(JSON.stringify(value));
    } else {
      out.push('{');
      const keyPath = childPath(path, key);
      if (kind === 'namespace') await writeMembers(out, rowIds, value as Record<string, unknown>, keyPath, false);
      else await writeRows(out, value as Record<string, unknown>, rowIds.of(keyPath) ?? Object.keys(value));
      out.push('}');
    }
    await out.maybeYield();
  }
}

async function writeRows(out: SlicedWriter, rows: Record<string, unknown>, ids: Iterable<string>): Promise<void> {
  let comma = false;
  for (const id of ids) {
    // Rows come and go while the file is written: the log replays those changes over it anyway.
    if (!Object.hasOwn(rows, id)) continue;
    out.push(`${comma ? ',' : ''}${JSON.stringify(id)}:${JSON.stringify(rows[id])}`);
    comma = true;
    await out.maybeYield();
  }
}

class SlicedWriter {
  readonly #handle: Awaited<ReturnType<typeof open>>;
  #pieces: string[] = [];
  #length = 0;
  #position = 0;
  #sliceStarted = performance.now();
  #sinceCheck = 0;

  constructor(handle: Awaited<ReturnType<typeof open>>) {
    this.#handle = handle;
  }

  push(piece: string): void {
    this.#pieces.push(piece);
    this.#length += piece.length;
  }

  async maybeYield(): Promise<void> {
    if (this.#length >= WRITE_BYTES) await this.flush();
    if ((this.#sinceCheck += 1) < 256) return;
    this.#sinceCheck = 0;
    if (performance.now() - this.#sliceStarted < SLICE_MS) return;
    await nextTurn();
    this.#sliceStarted = performance.now();
  }

  async flush(): Promise<void> {
    if (this.#pieces.length === 0) return;
    const bytes = Buffer.from(this.#pieces.join(''));
    this.#pieces = [];
    this.#length = 0;
    for (let written = 0; written < bytes.length;) {
      written += (await this.#handle.write(bytes, written, bytes.length - written, this.#position + written))
        .bytesWritten;
    }
    this.#position += bytes.length;
    this.#sliceStarted = performance.now();
  }
}
