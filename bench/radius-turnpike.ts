/**
 * The Turnpike side of `bench:radius`: opens a store in the given directory, fills it with the
 * benchmark's users, vouchers and subscriptions, starts the RADIUS server and prints its ports.
 */
import bcrypt from 'bcryptjs';
import { systemClock } from '../shared/clock.js';
import { loadConfig } from '../appliance/config/load-config.js';
import { createLogger } from '../shared/logger.js';
import { addNasClient } from '../appliance/nas/nas-clients.js';
import { NasObservations } from '../appliance/nas/nas-observations.js';
import { PasswordHasher } from '../appliance/accounts/password-hasher.js';
import { StoreAccessPolicy } from '../appliance/sessions/access-policy.js';
import { openStore } from '../appliance/open-store.js';
import { Registry } from 'prom-client';
import { createRadiusMetrics } from '../radius/radius-metrics.js';
import { startRadiusServer } from '../radius/server.js';
import { planFixture } from '../radius/test-fixtures.js';
import { userName, userPassword, voucherCode } from './radius-load.js';
import { userRecord } from '../appliance/testing/user-record.js';

const [dir = '', secret = '', usersText = '64', authPortText = '0', acctPortText = '0'] = process.argv.slice(2);
const users = Number(usersText);
const { config } = loadConfig({
  env: {},
  overrides: {
    dataDir: dir,
    // Duplicate window as long as FreeRADIUS's cleanup_delay in the bench config (5 s): like for like.
    radius: {
      listen: ['127.0.0.1'],
      authPort: Number(authPortText),
      acctPort: Number(acctPortText),
      duplicateWindowMs: 5000,
    },
  },
});
const store = await openStore({ dir });
const clock = systemClock;
await addNasClient(store, clock, {
  name: 'bench-nas',
  source: '127.0.0.1',
  secret,
  dialect: 'coovachilli',
  requireMessageAuthenticator: true,
});
const hashes = await Promise.all(
  Array.from({ length: users }, (_, i) => bcrypt.hash(userPassword(i), config.auth.bcryptCostGuest)),
);
const now = clock.now();
await store.update((db) => {
  db.plans['bench-plan'] = planFixture({ id: 'bench-plan', quotaBytes: null, maxDevices: 1_000 });
  db.voucherBatches['bench-batch'] = {
    id: 'bench-batch',
    planId: 'bench-plan',
    count: users,
    prefix: 'BENCH',
    multiUse: false,
    maxUses: null,
    validFrom: now - 1000,
    validUntil: now + 86_400_000,
    note: '',
    createdBy: 'bench',
    createdAt: now,
    revokedAt: null,
  };
  for (let i = 0; i < users; i++) {
    db.users[`bench-user-${i}`] = userRecord(
      { id: `bench-user-${i}`, email: userName(i), displayName: `Bench ${i}`, passwordHash: hashes[i]! },
      now,
    );
    db.subscriptions[`bench-sub-${i}`] = {
      id: `bench-sub-${i}`,
      userId: `bench-user-${i}`,
      voucherCode: null,
      planId: 'bench-plan',
      source: 'payment',
      sourceRef: null,
      status: 'active',
      startedAt: now,
      endsAt: now + 86_400_000,
      bytesUsed: 0,
      cancelAtPeriodEnd: false,
      createdAt: now,
      updatedAt: now,
    };
    db.vouchers[voucherCode(i)] = {
      code: voucherCode(i),
      batchId: 'bench-batch',
      planId: 'bench-plan',
      uses: 0,
      firstUsedAt: null,
      revokedAt: null,
    };
  }
});
const hasher = new PasswordHasher({ concurrency: config.auth.hashConcurrency });
const policy = new StoreAccessPolicy({
  store,
  clock,
  verifyPassword: (password, hash) => hasher.verify(password, hash),
  passwordCacheSeconds: config.radius.passwordCacheSeconds,
});
const writes = { commits: 0, records: 0, ms: 0 };
store.onWrite(({ batchSize, ms }) => {
  writes.commits += 1;
  writes.records += batchSize;
  writes.ms += ms;
});
const server = await startRadiusServer({
  config: config.radius,
  store,
  clock,
  logger: createLogger({ level: 'warn' }),
  policy,
  // As in production, every request is counted and timed; BENCH_RADIUS_METRICS=0 measures without.
  ...(process.env.BENCH_RADIUS_METRICS === '0' ? {} : { metrics: createRadiusMetrics(new Registry()) }),
  // As in production, every packet also updates the NAS's trust observations (flushed by a job, not run here).
  observations: new NasObservations(),
});
process.stdout.write(`${JSON.stringify({ authPort: server.authPort, acctPort: server.acctPort })}\n`);
process.on('SIGTERM', () => {
  void (async () => {
    process.stderr.write(`${JSON.stringify({ ...server.stats, writes })}\n`);
    await server.close();
    await store.close();
    process.exit(0);
  })();
});
