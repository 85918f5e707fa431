import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  mode: number;
  /** Owner to give the file before it becomes visible; default: the writer (root). */
  uid?: number;
  gid?: number;
}

/**
 * Replaces `path` all at once: readers see the old file or the new one, never
 * half of either. The temporary file is created with O_EXCL|O_NOFOLLOW, so a
 * planted link is never followed; it gets its mode and owner and is fsynced
 * before the rename, and the directory is fsynced after it.
 */
export async function writeFileAtomic(path: string, content: string, options: AtomicWriteOptions): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(temp, flags, options.mode);
  try {
    await handle.writeFile(content);
    // Mode first: once the file belongs to someone else, changing it would need CAP_FOWNER.
    await handle.chmod(options.mode);
    if (options.uid !== undefined) await handle.chown(options.uid, options.gid ?? -1);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  const dirHandle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
