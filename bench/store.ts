/**
 * bench:store — acknowledged (fsynced, group-committed) writes with a venue of `--users N`
 * (default 10,000) and `--sessions M` (default 2,000) live sessions.
 *
 * Scenarios, each in alternating rounds against the reference measured in the same run — the
 * store as it was before the write-ahead log, which rewrote the whole `db.json` per group commit:
 *   - 1 writer: latency of one acknowledged write (target p50 <= 10 ms at 100k users);
 *   - 200 writers: acknowledged writes/s and p99 (targets >= 5,000/s, p99 <= 50 ms at 100k).
 * `--driver postgres [--url URL]`: the PostgreSQL driver beside the write-ahead log instead.
 * Then: the longest event-loop delay while a checkpoint runs under that load (target <= 50 ms),
 * open + replay of a log past the checkpoint (target <= 2 s), and peak RSS (aim <= 300 MB).
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Db, Session, User } from '../appliance/domain/model.js';
import { writeFileDurably } from '../appliance/store/durable-file.js';
import { GroupCommit } from '../appliance/store/group-commit.js';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import { userRecord } from '../appliance/testing/user-record.js';
import { percentile, summarize, type LatencySummary } from './stats.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    sessions: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    'round-ms': { type: 'string', default: process.env.BENCH_DURATION_MS ?? '3000' },
    driver: { type: 'string', default: 'lowdb' },
    url: { type: 'string' },
  },
});
const USERS = Number(args.users);
const SESSIONS = Number(args.sessions);
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args['round-ms']);
const WRITERS = 200;

/** The subset of a store a scenario needs. */
interface Writable {
  readonly db: Readonly<Db>;
  update<T>(mutate: (db: Db) => T): Promise<T>;
}

/** The reference: main before the write-ahead log. Mutate in place, rewrite db.json per group. */
class WholeFileStore implements Writable {
  readonly #db: Db;
  readonly #commit: GroupCommit;

  constructor(db: Db, path: string) {
    this.#db = db;
    this.#commit = new GroupCommit(() => writeFileDurably(path, JSON.stringify(this.#db)));
  }

  get db(): Readonly<Db> {
    return this.#db;
  }

  async update<T>(mutate: (db: Db) => T): Promise<T> {
    const result = mutate(this.#db);
    await this.#commit.commit();
    return result;
  }
}

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

let counter = 0;
/** One accounting-like write: an Interim-Update's octets on one live session. */
const interimUpdate = (store: Writable): Promise<void> => {
  const id = `s${counter++ % SESSIONS}`;
  const at = counter;
  return store.update((db) => {
    const target = db.sessions[id]!;
    target.inputOctets += 1500;
    target.lastUpdateAt = at;
  });
};

async function load(store: Writable, writers: number, ms: number, stop = { now: false }): Promise<LatencySummary> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + ms;
  const writer = async (): Promise<void> => {
    while (performance.now() < deadline && !stop.now) {
      const begun = performance.now();
      await interimUpdate(store);
      latencies.push(performance.now() - begun);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  return summarize(latencies, performance.now() - started);
}

let peakRss = 0;
const sampleRss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
sampleRss.unref();

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const spread = (values: number[]): string => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

if (args.driver === 'postgres') {
  // The PostgreSQL driver beside the write-ahead log, same venue and scenarios (bench/store-postgres.ts).
  const { benchPostgres } = await import('./store-postgres.js');
  await benchPostgres({
    users: USERS,
    sessions: SESSIONS,
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    writers: WRITERS,
    url: args.url,
    user,
    session,
    load,
  });
  process.exit(0);
}

const dir = await mkdtemp(join(tmpdir(), 'tp-bench-store-'));
try {
  const storeDir = join(dir, 'wal');
  const store = await LowdbStore.open({ dir: storeDir, checkpoint: { intervalMs: 5_000 } });
  await store.update((db) => {
    for (let i = 0; i < USERS; i += 1) db.users[`u${i}`] = user(i);
    for (let i = 0; i < SESSIONS; i += 1) db.sessions[`s${i}`] = session(i);
  });
  await store.checkpoint();
  const size = (await stat(store.path)).size;
  // Our store alone, loaded and warmed under the 200-writer load, before the reference exists.
  await load(store, WRITERS, 1000);
  const rssAlone = process.memoryUsage().rss;
  const reference = new WholeFileStore(structuredClone(store.db) as Db, join(dir, 'reference-db.json'));

  const rows: Array<{ scenario: string; ours: LatencySummary[]; ref: LatencySummary[] }> = [
    { scenario: '1 writer', ours: [], ref: [] },
    { scenario: `${WRITERS} writers`, ours: [], ref: [] },
  ];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [index, writers] of [1, WRITERS].entries()) {
      // Alternate which goes first, so neither always runs on a warmer (or busier) machine.
      const order = round % 2 === 0 ? (['ours', 'ref'] as const) : (['ref', 'ours'] as const);
      for (const which of order) {
        const target = which === 'ours' ? store : reference;
        rows[index]![which].push(await load(target, writers, ROUND_MS));
      }
    }
  }

  // A checkpoint under the 200-writer load: how long does the event loop ever wait?
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const stop = { now: false };
  const loadDuringCheckpoint = load(store, WRITERS, Number.MAX_SAFE_INTEGER, stop);
  delay.enable();
  const checkpointStarted = performance.now();
  await store.checkpoint();
  const checkpointMs = performance.now() - checkpointStarted;
  delay.disable();
  stop.now = true;
  await loadDuringCheckpoint;

  // A crash leaves the log past the last checkpoint: open replays it.
  const crashed = await LowdbStore.open({
    dir: join(dir, 'replay'),
    checkpoint: { intervalMs: 3_600_000, maxLogBytes: Number.MAX_SAFE_INTEGER },
  });
  await crashed.update((db) => {
    for (let i = 0; i < USERS; i += 1) db.users[`u${i}`] = user(i);
    for (let i = 0; i < SESSIONS; i += 1) db.sessions[`s${i}`] = session(i);
  });
  await crashed.checkpoint();
  // The worst case a start meets: as much log as the checkpoint policy lets pile up (32 MB).
  let replayWrites = 0;
  while (logBytes(join(dir, 'replay')) < 32 * 1024 * 1024) {
    await Promise.all(Array.from({ length: 5_000 }, () => interimUpdate(crashed)));
    replayWrites += 5_000;
  }
  const openStarted = performance.now();
  const reopened = await LowdbStore.open({ dir: join(dir, 'replay') });
  const openMs = performance.now() - openStarted;
  await reopened.close();

  console.log(
    `bench:store — ${USERS} users, ${SESSIONS} live sessions, db.json ${(size / 1024 / 1024).toFixed(1)} MB, ` +
      `${ROUNDS} alternating rounds of ${ROUND_MS} ms, load ${(await loadAverage()).join(' ')}`,
  );
  console.log(
    'scenario        write-ahead log (median, spread)            whole-file reference (median, spread)       ratio',
  );
  for (const { scenario, ours, ref } of rows) {
    const cell = (runs: LatencySummary[]): string =>
      `${median(runs.map((r) => r.perSecond))
        .toFixed(0)
        .padStart(6)}/s (${spread(runs.map((r) => r.perSecond))}) ` +
      `p50 ${median(runs.map((r) => r.p50)).toFixed(2)} ms p99 ${median(runs.map((r) => r.p99)).toFixed(2)} ms`;
    const ratio = median(ours.map((r) => r.perSecond)) / median(ref.map((r) => r.perSecond));
    console.log(`${scenario.padEnd(15)} ${cell(ours).padEnd(43)} ${cell(ref).padEnd(43)} ${ratio.toFixed(1)}x`);
  }
  const single = rows[0]!.ours;
  const grouped = rows[1]!.ours;
  const eventLoopMaxMs = delay.max / 1e6;
  console.log(
    `checkpoint under ${WRITERS} writers: ${checkpointMs.toFixed(0)} ms, longest event-loop delay ${eventLoopMaxMs.toFixed(1)} ms`,
  );
  console.log(`open + replay of ${replayWrites} logged changes (a full 32 MB log): ${openMs.toFixed(0)} ms`);
  console.log(
    `RSS: ${(rssAlone / 1024 / 1024).toFixed(0)} MB with the store alone under load; ` +
      `peak ${(peakRss / 1024 / 1024).toFixed(0)} MB with the reference and the replay in the same process`,
  );
  const targets: Array<[string, boolean]> = [
    [`${WRITERS} writers >= 5000/s`, median(grouped.map((r) => r.perSecond)) >= 5000],
    [`${WRITERS} writers p99 <= 50 ms`, median(grouped.map((r) => r.p99)) <= 50],
    ['1 writer p50 <= 10 ms', median(single.map((r) => r.p50)) <= 10],
    ['event-loop delay during checkpoint <= 50 ms', eventLoopMaxMs <= 50],
    ['open + replay <= 2 s', openMs <= 2000],
    ['RSS of the store alone <= 300 MB', rssAlone <= 300 * 1024 * 1024],
  ];
  for (const [target, met] of targets) console.log(`target ${target}: ${met ? 'MET' : 'NOT MET'}`);
  await store.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}

function logBytes(storeDir: string): number {
  return readdirSync(storeDir)
    .filter((name) => name.startsWith('wal.'))
    .reduce((total, name) => total + statSync(join(storeDir, name)).size, 0);
}

async function loadAverage(): Promise<string[]> {
  const { loadavg } = await import('node:os');
  return loadavg().map((value) => value.toFixed(2));
}
