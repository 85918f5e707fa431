import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LowdbStore } from './lowdb-store.js';

const writer = fileURLToPath(new URL('./fixtures/ack-writer.ts', import.meta.url));

function runUntilKilled(dir: string, start: number, killAfterMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(start)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // Start the kill clock only once writes are flowing, so every run kills mid-write.
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own: ${err}`));
      resolve(out.split('\n').filter((line) => line.startsWith('ack-')));
    });
  });
}

test('every acknowledged write is back after SIGKILL at a random moment (mid-write, mid-checkpoint, mid-rotation), 20 times in a row', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-durability-'));
  try {
    const acknowledged = new Set<string>();
    let checkpoints = 0;
    for (let round = 0; round < 20; round += 1) {
      const acks = await runUntilKilled(dir, round * 1_000_000, 20 + Math.floor(Math.random() * 200));
      for (const id of acks) acknowledged.add(id);
      if ((await readdir(dir)).some((name) => name.startsWith('.db.json.'))) checkpoints += 1;
      const store = await LowdbStore.open({ dir });
      const missing = [...acknowledged].filter((id) => store.db.sequences[id] === undefined);
      // The row every write patched counts exactly the writes the store kept, no more, no fewer.
      const kept = Object.keys(store.db.sequences).filter((id) => id.startsWith('ack-')).length;
      const tally = store.db.attempts?.tally?.count;
      await store.close();
      assert.deepEqual(missing, [], `round ${round}: acknowledged writes lost`);
      assert.equal(tally, kept, `round ${round}: the patched row disagrees with the writes kept`);
    }
    assert.ok(acknowledged.size > 20, `expected many acknowledged writes, got ${acknowledged.size}`);
    // A kill during a checkpoint leaves its temporary file behind: some rounds must have hit one.
    assert.ok(checkpoints > 0, 'no kill landed during a checkpoint');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
