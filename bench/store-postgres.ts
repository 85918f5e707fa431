/**
 * bench:store --driver postgres — the same scenarios as bench:store (1 writer; 200 writers of
 * Interim-Update-like writes on live sessions) against the PostgreSQL driver, beside the embedded
 * store (write-ahead log) measured in alternating rounds of the same run. Also: 200 writers split
 * over two appliances on one database, and the time an appliance takes to open (load every row).
 * Without `--url` it starts a throwaway PostgreSQL 15 (fsync on) in /var/tmp.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db, Session, User } from '../appliance/domain/model.js';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import { PostgresStore } from '../appliance/store/postgres/postgres-store.js';
import type { Store } from '../appliance/store/store.js';
import { startPostgres, type PostgresServer } from '../appliance/testing/postgres-server.js';
import { percentile, type LatencySummary } from './stats.js';

export interface PostgresBenchOptions {
  users: number;
  sessions: number;
  rounds: number;
  roundMs: number;
  writers: number;
  /** An existing database to use (emptied first? no: it must be empty); else a throwaway server. */
  url: string | undefined;
  user: (i: number) => User;
  session: (i: number) => Session;
  load: (
    store: { readonly db: Readonly<Db>; update<T>(mutate: (db: Db) => T): Promise<T> },
    writers: number,
    ms: number,
  ) => Promise<LatencySummary>;
}

const CHUNK = 5_000;

async function fill(store: Store, options: PostgresBenchOptions): Promise<void> {
  for (let start = 0; start < options.users; start += CHUNK) {
    await store.update((db) => {
      for (let i = start; i < Math.min(options.users, start + CHUNK); i += 1) db.users[`u${i}`] = options.user(i);
    });
  }
  for (let start = 0; start < options.sessions; start += CHUNK) {
    await store.update((db) => {
      for (let i = start; i < Math.min(options.sessions, start + CHUNK); i += 1)
        db.sessions[`s${i}`] = options.session(i);
    });
  }
}

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const spread = (values: number[]): string => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

function cell(runs: LatencySummary[]): string {
  if (runs.length === 0) return '—';
  return (
    `${median(runs.map((r) => r.perSecond))
      .toFixed(0)
      .padStart(6)}/s (${spread(runs.map((r) => r.perSecond))}) ` +
    `p50 ${median(runs.map((r) => r.p50)).toFixed(2)} ms p99 ${median(runs.map((r) => r.p99)).toFixed(2)} ms`
  );
}

/** Two loads at once, one per appliance, added up as one figure. */
async function loadTwo(options: PostgresBenchOptions, a: Store, b: Store, ms: number): Promise<LatencySummary> {
  const half = options.writers / 2;
  const [one, two] = await Promise.all([options.load(a, half, ms), options.load(b, half, ms)]);
  return {
    count: one.count + two.count,
    perSecond: one.perSecond + two.perSecond,
    p50: Math.max(one.p50, two.p50),
    p99: Math.max(one.p99, two.p99),
  };
}

export async function benchPostgres(options: PostgresBenchOptions): Promise<void> {
  const server: PostgresServer | null = options.url ? null : await startPostgres();
  const url = options.url ?? server!.url;
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-store-pg-'));
  let peakRss = 0;
  const sampleRss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  sampleRss.unref();
  try {
    const lowdb = await LowdbStore.open({ dir: join(dir, 'wal'), checkpoint: { intervalMs: 5_000 } });
    await fill(lowdb, options);
    const postgres = await PostgresStore.open({ url });
    const fillStarted = performance.now();
    await fill(postgres, options);
    const fillMs = performance.now() - fillStarted;
    // Warm both under the full load before measuring.
    await options.load(lowdb, options.writers, 1000);
    await options.load(postgres, options.writers, 1000);

    const rows: Array<{ scenario: string; writers: number; lowdb: LatencySummary[]; postgres: LatencySummary[] }> = [
      { scenario: '1 writer', writers: 1, lowdb: [], postgres: [] },
      { scenario: `${options.writers} writers`, writers: options.writers, lowdb: [], postgres: [] },
    ];
    for (let round = 0; round < options.rounds; round += 1) {
      for (const row of rows) {
        const order = round % 2 === 0 ? (['lowdb', 'postgres'] as const) : (['postgres', 'lowdb'] as const);
        for (const which of order) {
          row[which].push(await options.load(which === 'lowdb' ? lowdb : postgres, row.writers, options.roundMs));
        }
      }
    }

    const second = await PostgresStore.open({ url });
    const openStarted = performance.now();
    const third = await PostgresStore.open({ url });
    const openMs = performance.now() - openStarted;
    await third.close();
    const twoBoxes: LatencySummary[] = [];
    for (let round = 0; round < options.rounds; round += 1)
      twoBoxes.push(await loadTwo(options, postgres, second, options.roundMs));
    await second.close();

    console.log(
      `bench:store --driver postgres — ${options.users} users, ${options.sessions} live sessions, ` +
        `PostgreSQL 15 ${options.url ? 'at --url' : '(throwaway cluster, fsync on)'}, ${options.rounds} alternating rounds of ${options.roundMs} ms`,
    );
    console.log(
      'scenario                      lowdb, write-ahead log (median, spread)       postgres (median, spread)                    ratio',
    );
    for (const row of rows) {
      const ratio = median(row.postgres.map((r) => r.perSecond)) / median(row.lowdb.map((r) => r.perSecond));
      console.log(
        `${row.scenario.padEnd(29)} ${cell(row.lowdb).padEnd(44)} ${cell(row.postgres).padEnd(44)} ${ratio.toFixed(2)}x`,
      );
    }
    console.log(`${`${options.writers} writers on 2 appliances`.padEnd(29)} ${'—'.padEnd(44)} ${cell(twoBoxes)}`);
    console.log(
      `postgres: open (migrate check + load ${options.users + options.sessions} rows) ${openMs.toFixed(0)} ms; ` +
        `filling the venue took ${(fillMs / 1000).toFixed(1)} s; peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB (both stores and three PostgreSQL views in one process)`,
    );
    await postgres.close();
    await lowdb.close();
  } finally {
    clearInterval(sampleRss);
    await rm(dir, { recursive: true, force: true });
    await server?.stop();
  }
}
