/**
 * bench:store — acknowledged (fsynced, group-committed) writes per second with
 * a realistic document: 10,000 users and 2,000 live sessions, 200 concurrent
 * writers. Reference in the same run: one writer, i.e. one fsync per write.
 * Targets: >= 2,000 acknowledged writes/s and p99 <= 100 ms.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import type { Session, User } from '../appliance/domain/model.js';
import { formatRow, summarize } from './stats.js';
import { userRecord } from '../appliance/testing/user-record.js';

const USERS = 10_000;
const SESSIONS = 2_000;
const WRITERS = 200;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);

function user(i: number): User {
  return userRecord({
    id: `u${i}`,
    email: `guest${i}@example.test`,
    displayName: `Guest ${i}`,
    passwordHash: '$2b$10$abcdefghijklmnopqrstuuJ7cYJ5.3bJZ0cJ0mQm7fWbYQz9cQm2a',
  });
}

function session(i: number): Session {
  return {
    id: `s${i}`,
    subscriptionId: `sub${i}`,
    ownerKey: `user:u${i}`,
    nasId: 'nas1',
    acctSessionId: `acct-${i}`,
    mode: 'controller',
    mac: '02:00:00:00:00:01',
    ip: '10.1.0.1',
    startedAt: 0,
    lastUpdateAt: 0,
    interimIntervalSeconds: 300,
    inputOctets: 0,
    outputOctets: 0,
    chargedOctets: 0,
    disconnectPendingSince: null,
  };
}

async function run(store: LowdbStore, writers: number): Promise<number[]> {
  const latencies: number[] = [];
  const deadline = performance.now() + DURATION_MS;
  let n = 0;
  const writer = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const id = `s${n++ % SESSIONS}`;
      const started = performance.now();
      await store.update((db) => {
        const target = db.sessions[id]!;
        target.inputOctets += 1500;
        target.lastUpdateAt = n;
      });
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  return latencies;
}

const dir = await mkdtemp(join(tmpdir(), 'tp-bench-store-'));
try {
  const store = await LowdbStore.open({ dir });
  await store.update((db) => {
    for (let i = 0; i < USERS; i += 1) db.users[`u${i}`] = user(i);
    for (let i = 0; i < SESSIONS; i += 1) db.sessions[`s${i}`] = session(i);
  });
  const size = (await stat(store.path)).size;

  const singleStart = performance.now();
  const single = summarize(await run(store, 1), performance.now() - singleStart);
  const groupStart = performance.now();
  const grouped = summarize(await run(store, WRITERS), performance.now() - groupStart);
  await store.close();

  console.log(`bench:store — ${USERS} users, ${SESSIONS} live sessions, db.json ${(size / 1024 / 1024).toFixed(2)} MB`);
  console.log(formatRow('1 writer (reference)', single));
  console.log(formatRow(`${WRITERS} concurrent writers`, grouped));
  console.log(`group commit speed-up: ${(grouped.perSecond / single.perSecond).toFixed(1)}x`);
  const ok = grouped.perSecond >= 2000 && grouped.p99 <= 100;
  console.log(`target >= 2000 writes/s and p99 <= 100 ms: ${ok ? 'MET' : 'NOT MET'}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
