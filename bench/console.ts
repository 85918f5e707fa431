/**
 * bench:console — every console page against a store the size of a busy venue: 100k accounts,
 * 20k live sessions (with their subscriptions), 200 voucher batches of 50 codes, 50 NAS clients
 * and 200k audit entries. Each page is requested ROUNDS times in-process (`inject`, signed in as
 * an admin through the console's own forms) and the table prints p50, p99 and the page's weight.
 * 1M accounting lines over 30 days are appended and the report rollups rebuilt from them
 * (`turnpike reports rebuild`, timed); the reports page reads the rollups, never the history.
 * Targets: p99 ≤ 100 ms and weight ≤ 150 KB per page, the chart scripts included (uPlot and the
 * console's chart script, counted once per page that loads them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../appliance/accounts/audit.js';
import { totpCode } from '../appliance/accounts/totp.js';
import { systemClock } from '../shared/clock.js';
import { validateConfig } from '../appliance/config/load-config.js';
import type { NasClient, Session, Subscription } from '../appliance/domain/model.js';
import { silentLogger } from '../shared/logger.js';
import { createMetrics } from '../appliance/metrics.js';
import { accountingCsv, instantsOf } from '../appliance/console/report-csv.js';
import { dayKeyOf } from '../appliance/reports/day-keys.js';
import { rebuildReports } from '../appliance/reports/rebuild.js';
import type { UsageFact } from '../appliance/reports/rollups.js';
import type { AccountingLine } from '../appliance/sessions/accounting.js';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import { planRecord } from '../appliance/testing/plan-record.js';
import { userRecord } from '../appliance/testing/user-record.js';
import { createVoucherBatch } from '../appliance/vouchers/batches.js';
import { CapturedMail } from '../portal/auth/auth-test-harness.js';
import { createAuthentication } from '../portal/auth/create-authentication.js';
import { buildPortal } from '../portal/portal.js';
import { FormClient } from '../portal/testing/form-client.js';
import { recordingEnforcer } from '../portal/testing/recording-enforcer.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 20_000);
const AUDIT = Number(process.env.BENCH_AUDIT ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const ACCOUNTING = Number(process.env.BENCH_ACCOUNTING ?? 1_000_000);
const PASSWORD = 'Harbour-Lights-Evening-77';

async function seed(store: LowdbStore): Promise<{ planId: string; sessionId: string; userId: string }> {
  const now = Date.now();
  const plan = planRecord({ id: randomUUID(), name: 'Day pass', durationSeconds: 86_400, quotaBytes: 5e9 });
  const nas: NasClient[] = Array.from({ length: 50 }, (_, i) => ({
    id: randomUUID(),
    name: `ap-${i}`,
    source: `10.20.${i}.1`,
    secret: 'bench-secret-0123456789',
    dialect: 'mikrotik',
    coaPort: 3799,
    requireMessageAuthenticator: true,
    createdAt: now,
  }));
  const userIds = Array.from({ length: USERS }, (_, i) => `u${String(i).padStart(6, '0')}`);
  await store.update((db) => {
    db.plans[plan.id] = plan;
    for (const client of nas) db.nasClients[client.id] = client;
    for (let i = 0; i < userIds.length; i += 1) {
      const id = userIds[i]!;
      db.users[id] = userRecord({ id, displayName: `Guest ${i}`, createdAt: now - i * 60_000 }, now);
    }
    for (let i = 0; i < SESSIONS; i += 1) {
      const subscription: Subscription = {
        id: `sub${i}`,
        userId: userIds[i]!,
        voucherCode: null,
        planId: plan.id,
        source: 'payment',
        sourceRef: null,
        status: 'active',
        startedAt: now - 3_600_000,
        endsAt: now + 82_800_000,
        bytesUsed: i * 1000,
        cancelAtPeriodEnd: false,
        createdAt: now - 3_600_000,
        updatedAt: now,
      };
      db.subscriptions[subscription.id] = subscription;
      const session: Session = {
        id: `s${i}`,
        subscriptionId: subscription.id,
        ownerKey: `user:${userIds[i]!}`,
        nasId: nas[i % nas.length]!.id,
        acctSessionId: `acct-${i}`,
        mode: 'controller',
        mac: `02:00:${[i >> 16, (i >> 8) & 255, i & 255, 1].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
        ip: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
        startedAt: now - i * 1000,
        lastUpdateAt: now - (i % 300) * 1000,
        interimIntervalSeconds: 300,
        inputOctets: i * 10_000,
        outputOctets: i * 90_000,
        chargedOctets: 0,
        disconnectPendingSince: null,
      };
      db.sessions[session.id] = session;
    }
  });
  for (let batch = 0; batch < 200; batch += 1) {
    await createVoucherBatch(store, systemClock, {
      planId: plan.id,
      count: 50,
      createdBy: 'bench',
      note: `Batch ${batch}`,
    });
  }
  const audit = store.history<AuditRecord>('audit');
  const actions = ['login.succeeded', 'session.kicked', 'plan.updated', 'voucher_batch.created', 'login.failed'];
  for (let start = 0; start < AUDIT; start += 10_000) {
    const appends: Array<Promise<void>> = [];
    for (let i = start; i < Math.min(AUDIT, start + 10_000); i += 1) {
      appends.push(
        audit.append({
          at: now - (AUDIT - i) * 1000,
          action: actions[i % actions.length]!,
          actor: {
            kind: 'user',
            id: userIds[i % 1000]!,
            email: `guest${i % 1000}@bench.test`,
            role: 'operator',
            ip: '10.0.0.1',
          },
          actorId: userIds[i % 1000]!,
          target: userIds[(i * 7) % USERS]!,
          ip: '10.0.0.1',
          details: { n: i },
        }),
      );
    }
    await Promise.all(appends);
  }
  return { planId: plan.id, sessionId: 's12345', userId: userIds[12_345]! };
}

/**
 * Interim updates of the live sessions over the last 30 days, each carrying what it added (as
 * recordAccounting writes them), appended in the history's own batches.
 */
async function seedAccounting(store: LowdbStore, planId: string): Promise<void> {
  const now = Date.now();
  const history = store.history<AccountingLine & { usage: UsageFact }>('accounting');
  const span = 30 * 86_400_000;
  for (let start = 0; start < ACCOUNTING; start += 20_000) {
    const appends: Array<Promise<void>> = [];
    for (let i = start; i < Math.min(ACCOUNTING, start + 20_000); i += 1) {
      const s = i % SESSIONS;
      const round = Math.floor(i / SESSIONS);
      appends.push(
        history.append({
          at: now - span + Math.floor((i / ACCOUNTING) * span),
          nasId: `nas-${s % 50}`,
          status: 'interim',
          acctSessionId: `acct-${s}`,
          subscriptionId: `sub${s}`,
          mac: '02:00:00:00:00:01',
          ip: '10.100.0.1',
          inputOctets: (round + 1) * 10_000,
          outputOctets: (round + 1) * 90_000,
          sessionTime: round * 300,
          terminateCause: null,
          interimIntervalSeconds: 300,
          sessionId: `nas-${s % 50}/acct-${s}`,
          usage: {
            inOctets: 10_000,
            outOctets: 90_000,
            planId,
            ownerKey: `user:u${String((s * 5 + round) % USERS).padStart(6, '0')}`,
            opened: round === 0,
          },
        }),
      );
    }
    await Promise.all(appends);
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-console-'));
  const config = validateConfig(
    { dataDir: dir, logLevel: 'silent', portal: { rateLimitPerMinute: 1_000_000 } },
    'bench',
  );
  // Rotated history files are kept beyond the appliance's ten, so that all 1M accounting lines stay.
  const store = await LowdbStore.open({ dir, history: { maxBytes: 16 * 1024 * 1024, keep: 1_000 } });
  const logger = silentLogger;
  const metrics = createMetrics({ defaultMetrics: false });
  const auth = await createAuthentication({
    store,
    clock: systemClock,
    config,
    logger,
    metrics,
    mail: new CapturedMail(),
  });
  const app = await buildPortal({
    config,
    logger,
    metrics,
    authenticator: auth.authenticator,
    readiness: [],
    cookieSecret: 'bench-cookie-secret-0123456789abcdef',
    authRoutes: auth.routes,
    admin: {
      store,
      clock: systemClock,
      accounts: auth.accounts,
      enforcer: recordingEnforcer({ store, clock: systemClock }),
    },
  });
  await app.ready();
  try {
    const seeding = performance.now();
    const { sessionId, userId, planId } = await seed(store);
    console.log(
      `seeded ${USERS} accounts, ${SESSIONS} live sessions, 10000 vouchers, ${AUDIT} audit entries in ${Math.round(performance.now() - seeding)} ms`,
    );
    const appending = performance.now();
    await seedAccounting(store, planId);
    const appended = performance.now() - appending;
    const rebuilding = performance.now();
    const rebuilt = await rebuildReports(store);
    console.log(
      `appended ${ACCOUNTING} accounting lines in ${Math.round(appended)} ms; turnpike reports rebuild read ${rebuilt.accountingLines} in ${Math.round(performance.now() - rebuilding)} ms and wrote ${rebuilt.changedRows} rollup rows (heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB)`,
    );
    await auth.accounts.users.createUser(
      { email: 'bench-admin@example.test', role: 'admin', password: PASSWORD },
      null,
    );
    const browser = new FormClient(app);
    await browser.get('/admin/login');
    await browser.post('/admin/login', { email: 'bench-admin@example.test', password: PASSWORD });
    const enrol = await browser.get('/admin/setup/mfa');
    const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(enrol.body)![1]!.replace(/ /g, '');
    await browser.post('/admin/setup/mfa', { code: totpCode(secret, Date.now()) });
    const batchId = Object.keys(store.db.voucherBatches)[0]!;
    const pages = [
      '/admin',
      '/admin/sessions',
      '/admin/sessions?page=200',
      '/admin/sessions?q=10.100.48',
      `/admin/sessions/${sessionId}`,
      '/admin/people',
      '/admin/people?q=guest%209999',
      `/admin/people/${userId}`,
      '/admin/plans',
      '/admin/vouchers',
      `/admin/vouchers/${batchId}`,
      '/admin/nas',
      '/admin/audit',
      '/admin/audit?action=session&page=3',
      '/admin/reports',
      '/admin/reports?from=2025-01-01',
      '/admin/reports/export/usage-days',
    ];
    // The chart scripts a page loads count towards its weight.
    let scriptBytes = 0;
    for (const asset of ['uplot.min.js', 'uplot.min.css', 'console-charts.js']) {
      scriptBytes += (await browser.get(`/admin/assets/${asset}`)).rawPayload.length;
    }
    const rows: Array<{ page: string; p50: number; p99: number; kb: number }> = [];
    for (const url of pages) {
      const first = await browser.get(url);
      if (first.statusCode !== 200) throw new Error(`${url} answered ${first.statusCode}`);
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i += 1) {
        const started = performance.now();
        await browser.get(url);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
      const scripts = first.body.includes('/admin/assets/uplot.min.js') ? scriptBytes : 0;
      rows.push({ page: url, p50: at(0.5), p99: at(0.99), kb: (Buffer.byteLength(first.body) + scripts) / 1024 });
    }
    console.log(`\n| page | p50 ms | p99 ms | weight KB | within target |`);
    console.log(`| --- | ---: | ---: | ---: | --- |`);
    for (const row of rows) {
      const ok = row.p99 <= 100 && row.kb <= 150;
      console.log(
        `| ${row.page} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.kb.toFixed(1)} | ${ok ? 'yes' : 'NO'} |`,
      );
    }
    // The raw export streams the history from its oldest line: its first bytes and its whole, for the last day.
    const exporting = performance.now();
    const heapBefore = process.memoryUsage().heapUsed;
    let firstByteMs = 0;
    let exported = 0;
    let heapPeak = 0;
    const { fromMs, toMs } = instantsOf({ from: dayKeyOf(Date.now(), 'UTC'), to: dayKeyOf(Date.now(), 'UTC') }, 'UTC');
    for await (const chunk of accountingCsv(store, fromMs, toMs)) {
      if (exported === 0) firstByteMs = performance.now() - exporting;
      exported += chunk.length;
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heapBefore);
    }
    console.log(
      `\nraw accounting CSV of today: ${Math.round(exported / 1024)} KB, header after ${firstByteMs.toFixed(1)} ms, whole after ${Math.round(performance.now() - exporting)} ms, heap grew at most ${Math.round(heapPeak / 1e6)} MB`,
    );
  } finally {
    await app.close();
    await auth.accounts.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
