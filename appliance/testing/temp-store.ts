import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openStore } from '../open-store.js';
import type { LowdbStore } from '../store/lowdb-store.js';

/** A fresh store in a temp directory, closed and removed when the test ends. */
export async function tempStore(t: TestContext, name = 'tp-test-'): Promise<LowdbStore> {
  const dir = await mkdtemp(join(tmpdir(), name));
  const store = await openStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}
