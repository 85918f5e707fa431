import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, stat, chmod, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Creates `dir` (0700) if missing and tightens it if it exists with looser bits. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const info = await stat(dir);
  if ((info.mode & 0o777) !== DIR_MODE) await chmod(dir, DIR_MODE);
}

/**
 * Replaces `path` with `contents` so that after the promise resolves the new
 * contents survive a crash or power loss, and at no moment can a reader see a
 * half-written file: write a temporary sibling, fsync it, rename it over the
 * target, fsync the directory. Steps that do not depend on each other run
 * together: under load each awaited step waits a turn of a busy event loop,
 * and the store's group commit (accounting acknowledgements) waits on all of them.
 */
export async function writeFileDurably(path: string, contents: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents;
  const [file, directory] = await Promise.allSettled([
    open(tmp, 'w', FILE_MODE),
    open(dir, constants.O_RDONLY | constants.O_DIRECTORY),
  ]);
  if (file.status === 'rejected' || directory.status === 'rejected') {
    if (file.status === 'fulfilled') await file.value.close();
    if (directory.status === 'fulfilled') await directory.value.close();
    throw file.status === 'rejected' ? file.reason : (directory as PromiseRejectedResult).reason;
  }
  const handle = file.value;
  const dirHandle = directory.value;
  try {
    try {
      for (let written = 0; written < bytes.length;) {
        written += (await handle.write(bytes, written, bytes.length - written, written)).bytesWritten;
      }
      await handle.sync();
    } catch (err) {
      await handle.close();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    // Renaming an open file is fine on POSIX; closing it need not hold up the rename.
    await Promise.all([handle.close(), rename(tmp, path)]);
    await dirHandle.sync();
  } catch (err) {
    await dirHandle.close();
    throw err;
  }
  // Nothing waits on closing a read-only directory descriptor.
  void dirHandle.close().catch(() => undefined);
}

/** Makes the names in `dir` durable: a file created or renamed there survives a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a file, or returns null when it does not exist. */
export async function readFileIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
