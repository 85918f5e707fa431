import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Live processes (not zombies) whose real, effective, saved or filesystem uid
 * is `uid`, read from procfs. A process that exits while being read is skipped.
 */
export async function liveProcessesOf(uid: number, procDir = '/proc'): Promise<number> {
  let count = 0;
  for (const entry of await readdir(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = await readFile(join(procDir, entry, 'status'), 'utf8');
    } catch {
      continue;
    }
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).map(Number) ?? [];
    if (state !== 'Z' && state !== 'X' && uids.includes(uid)) count += 1;
  }
  return count;
}
