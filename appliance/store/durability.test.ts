import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../domain/model.js';
import { counterJournals } from './fixtures/counter-journal.js';
import { LowdbStore } from './lowdb-store.js';

const writer = fileURLToPath(new URL('./fixtures/ack-writer.ts', import.meta.url));

type Mode = 'update' | 'journaled';

function runUntilKilled(dir: string, start: number, killAfterMs: number, mode: Mode): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(start), mode], {
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

async function acknowledgedWritesSurviveKills(mode: Mode, stateAfterKill: (dir: string) => Promise<Db>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-durability-'));
  try {
    const acknowledged = new Set<string>();
    for (let round = 0; round < 20; round += 1) {
      const acks = await runUntilKilled(dir, round * 1_000_000, 20 + Math.floor(Math.random() * 200), mode);
      for (const id of acks) acknowledged.add(id);
      const db = await stateAfterKill(dir);
      const missing = [...acknowledged].filter((id) => db.sequences[id] === undefined);
      assert.deepEqual(missing, [], `round ${round}: acknowledged writes lost`);
    }
    assert.ok(acknowledged.size > 20, `expected many acknowledged writes, got ${acknowledged.size}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('every acknowledged write is in db.json after SIGKILL at a random moment, 20 times in a row', () =>
  acknowledgedWritesSurviveKills(
    'update',
    async (dir) => JSON.parse(await readFile(join(dir, 'db.json'), 'utf8')) as Db,
  ));

test('every acknowledged journaled write is back after SIGKILL and replay, 20 times in a row', () =>
  acknowledgedWritesSurviveKills('journaled', async (dir) => {
    const store = await LowdbStore.open({ dir, journals: counterJournals });
    const db = structuredClone(store.db);
    await store.close();
    return db;
  }));
