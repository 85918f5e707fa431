import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { ManualClock } from '../shared/clock.js';
import { loadConfig } from '../appliance/config/load-config.js';
import type { Config } from '../appliance/config/schema.js';
import type { Dialect, Plan } from '../appliance/domain/model.js';
import { planRecord } from '../appliance/testing/plan-record.js';
import { addNasClient } from '../appliance/nas/nas-clients.js';
import { StoreAccessPolicy } from '../appliance/sessions/access-policy.js';
import { openStore } from '../appliance/open-store.js';
import type { LowdbStore } from '../appliance/store/lowdb-store.js';
import { silentLogger } from '../shared/logger.js';
import { SessionEnforcer } from '../appliance/sessions/enforcer.js';
import { after, before } from 'node:test';
import { createDynamicAuthorizationClient, type DynamicAuthorizationClient } from './dynamic-authorization-client.js';
import { startRadiusServer, type RadiusServer } from './server.js';
import { TestClient } from './test-packets.js';
import { subscriptionRecord } from '../appliance/testing/subscription-record.js';
import { userRecord } from '../appliance/testing/user-record.js';

export const SECRET = 'testing123-secret';
export const PASSWORD = 'correct horse battery';
export const GIB = 2 ** 30;

export function planFixture(overrides: Partial<Plan> = {}): Plan {
  return planRecord({
    id: 'plan-day',
    name: 'Day pass',
    priceMinor: 500,
    durationSeconds: 86_400,
    quotaBytes: 5 * GIB,
    bandwidthUpKbps: 2_000,
    bandwidthDownKbps: 10_000,
    maxDevices: 2,
    idleTimeoutSeconds: 600,
    ...overrides,
  });
}

export interface Fixture {
  dir: string;
  store: LowdbStore;
  clock: ManualClock;
  config: Config['radius'];
  policy: StoreAccessPolicy;
  nasId: string;
  close(): Promise<void>;
}

/**
 * A store holding a NAS on 127.0.0.1 (and ::1), a day plan, a user with a password and a
 * subscription, a remembered device, an unused voucher and a portal one-time credential.
 */
export async function createFixture(
  options: {
    dialect?: Dialect;
    requireMessageAuthenticator?: boolean;
    plan?: Partial<Plan>;
    radius?: Record<string, unknown>;
    bcryptCost?: number;
  } = {},
): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-radius-'));
  const store = await openStore({ dir });
  const clock = new ManualClock(Date.now());
  const now = clock.now();
  const nas = await addNasClient(store, clock, {
    name: 'test-nas',
    source: '127.0.0.0/8',
    secret: SECRET,
    dialect: options.dialect ?? 'coovachilli',
    coaPort: 3799,
    requireMessageAuthenticator: options.requireMessageAuthenticator ?? true,
  });
  await addNasClient(store, clock, {
    name: 'test-nas-v6',
    source: '::1',
    secret: SECRET,
    dialect: options.dialect ?? 'coovachilli',
  });
  const passwordHash = await bcrypt.hash(PASSWORD, options.bcryptCost ?? 4);
  await store.update((db) => {
    db.plans['plan-day'] = planFixture(options.plan);
    db.users['u1'] = userRecord({ id: 'u1', email: 'guest@example.org', displayName: 'Guest', passwordHash }, now);
    db.subscriptions['sub-user'] = subscriptionRecord({ id: 'sub-user', planId: 'plan-day' }, now);
    db.devices['dev1'] = {
      id: 'dev1',
      ownerKey: 'user:u1',
      mac: '02:00:00:00:00:01',
      label: 'phone',
      firstSeenAt: now,
      lastSeenAt: now,
    };
    db.voucherBatches['b1'] = {
      id: 'b1',
      planId: 'plan-day',
      count: 1,
      prefix: 'TP',
      multiUse: false,
      maxUses: null,
      validFrom: now - 1000,
      validUntil: now + 86_400_000,
      note: '',
      createdBy: 'staff',
      createdAt: now,
      revokedAt: null,
    };
    db.vouchers['TPVOUCHER1'] = {
      code: 'TPVOUCHER1',
      batchId: 'b1',
      planId: 'plan-day',
      uses: 0,
      firstUsedAt: null,
      revokedAt: null,
    };
    db.portalCredentials['pc-abc'] = {
      username: 'pc-abc',
      password: 'one-time-pass',
      subscriptionId: 'sub-user',
      mac: '02:00:00:00:00:02',
      expiresAt: now + 300_000,
      usedAt: null,
    };
  });
  const config = loadConfig({
    env: {},
    overrides: {
      radius: { listen: ['127.0.0.1', '::1'], authPort: 0, acctPort: 0, rejectDelayMs: 0, ...options.radius },
    },
  }).config.radius;
  const policy = new StoreAccessPolicy({
    store,
    clock,
    verifyPassword: (password, hash) => bcrypt.compare(password, hash),
    passwordCacheSeconds: config.passwordCacheSeconds,
  });
  return {
    dir,
    store,
    clock,
    config,
    policy,
    nasId: nas.id,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A RADIUS server on the fixture's ephemeral ports, store and policy. */
export function startFixtureServer(fixture: Fixture, enforcer?: SessionEnforcer): Promise<RadiusServer> {
  return startRadiusServer({
    config: fixture.config,
    store: fixture.store,
    clock: fixture.clock,
    logger: silentLogger,
    policy: fixture.policy,
    ...(enforcer ? { enforcer } : {}),
  });
}

/**
 * Points the fixture's NAS at a stand-in taking CoA and Disconnect-Requests on loopback `coaPort`,
 * and returns the dynamic-authorization client and the enforcer that reach it (close the client).
 */
export async function reachNasAt(
  fixture: Fixture,
  coaPort: number,
): Promise<{ client: DynamicAuthorizationClient; enforcer: SessionEnforcer }> {
  await fixture.store.update((db) => {
    db.nasClients[fixture.nasId]!.source = '127.0.0.1';
    db.nasClients[fixture.nasId]!.coaPort = coaPort;
  });
  const client = createDynamicAuthorizationClient({
    clock: fixture.clock,
    logger: silentLogger,
    timeoutMs: fixture.config.coaTimeoutMs,
    retries: fixture.config.coaRetries,
  });
  const enforcer = new SessionEnforcer({
    store: fixture.store,
    clock: fixture.clock,
    port: client,
    logger: silentLogger,
  });
  return { client, enforcer };
}

export interface RunningFixture {
  fixture: Fixture;
  server: RadiusServer;
  client: TestClient;
}

/** For a suite: a fixture, its server and a test client, started before the suite's tests and stopped after. */
export function useRunningFixture(): RunningFixture {
  const running: Partial<RunningFixture> = {};
  before(async () => {
    running.fixture = await createFixture();
    running.server = await startFixtureServer(running.fixture);
    running.client = await TestClient.open();
  });
  after(async () => {
    await running.client?.close();
    await running.server?.close();
    await running.fixture?.close();
  });
  return running as RunningFixture;
}
