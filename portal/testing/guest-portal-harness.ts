import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createAccountService, type AccountService } from '../../appliance/accounts/account-service.js';
import { totpCode } from '../../appliance/accounts/totp.js';
import { ManualClock } from '../../shared/clock.js';
import { loadConfig } from '../../appliance/config/load-config.js';
import type { Config } from '../../appliance/config/schema.js';
import type { Role } from '../../appliance/domain/model.js';
import { silentLogger } from '../../shared/logger.js';
import { OutboxMailPort } from '../../appliance/mail/mail-port.js';
import { createMetrics } from '../../appliance/metrics.js';
import type { Payments } from '../../appliance/payments/payments.js';
import { MemoryAccessPort } from '../../appliance/provisioning/access-port.js';
import { LowdbStore } from '../../appliance/store/lowdb-store.js';
import type { GuessLimiterOptions } from '../../appliance/vouchers/guess-limiter.js';
import type { StaffEnforcer } from '../api/sessions.js';
import { createSessionAuthenticator } from '../auth/authenticator.js';
import { portalAccountsFrom } from '../pages/portal-accounts.js';
import { buildPortal } from '../portal.js';
import type { RecordingEnforcer } from './recording-enforcer.js';

export interface GuestPortalHarness {
  app: FastifyInstance;
  store: LowdbStore;
  clock: ManualClock;
  config: Config;
  accounts: AccountService;
  accessPort: MemoryAccessPort;
  /** Base URL when listening, else ''. */
  url: string;
  /** A bearer token for a fresh user with this role. */
  tokenFor(role: Role): Promise<string>;
}

export interface HarnessOptions {
  gateway?: boolean;
  listen?: boolean;
  guessLimits?: Partial<GuessLimiterOptions>;
  voucherRateLimitPerMinute?: number;
  rateLimitPerMinute?: number;
  macOfAddress?: (ip: string) => string | null;
  /** Wires payments into the portal exactly as the composition root does (`buildPortal({ payments })`). */
  payments?: (deps: { store: LowdbStore; clock: ManualClock; config: Config }) => Payments;
  /** Wires the staff session/subscription API (`buildPortal({ staff })`) around this enforcer. */
  enforcer?: StaffEnforcer;
  /** What the portal calls after a top-up changed a subscription's limits (the appliance: the enforcer). */
  limitsChanged?: (subscriptionId: string) => Promise<unknown>;
}

/** The whole portal (foundation, real accounts, guest journey) on a temp store; torn down after the test. */
export async function startGuestPortal(t: TestContext, options: HarnessOptions = {}): Promise<GuestPortalHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-portal-'));
  const store = await LowdbStore.open({ dir: join(dir, 'store') });
  const clock = new ManualClock(Date.now());
  const { config } = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      logLevel: 'silent',
      portal: {
        publicUrl: 'http://portal.test',
        rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
        authRateLimitPerMinute: 1000,
      },
      gateway: { enabled: options.gateway ?? false },
    },
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const accounts = await createAccountService({
    store,
    clock,
    config,
    mail: new OutboxMailPort({ dir: join(dir, 'outbox'), from: config.mail.from, clock }),
    logger: silentLogger,
    metrics,
  });
  const accessPort = new MemoryAccessPort({ clock });
  if (options.enforcer && 'attach' in options.enforcer)
    (options.enforcer as RecordingEnforcer).attach({ store, clock });
  const app = await buildPortal({
    config,
    logger: silentLogger,
    metrics,
    authenticator: createSessionAuthenticator({ flows: accounts.flows, clock, logger: silentLogger }),
    readiness: [],
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
    ...(options.payments ? { payments: options.payments({ store, clock, config }) } : {}),
    ...(options.enforcer ? { staff: { store, clock, enforcer: options.enforcer } } : {}),
    guest: {
      store,
      clock,
      config,
      logger: silentLogger,
      accounts: portalAccountsFrom(accounts.flows, accounts.sshKeys),
      accessPort,
      secret: 'test-handoff-secret',
      ...(options.macOfAddress ? { macOfAddress: options.macOfAddress } : {}),
      ...(options.limitsChanged ? { limitsChanged: options.limitsChanged } : {}),
      ...(options.guessLimits ? { guessLimits: options.guessLimits } : {}),
      ...(options.voucherRateLimitPerMinute !== undefined
        ? { voucherRateLimitPerMinute: options.voucherRateLimitPerMinute }
        : {}),
    },
  });
  let url = '';
  if (options.listen) {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    url = address;
  } else {
    await app.ready();
  }
  t.after(async () => {
    await app.close();
    await accounts.settled();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  let users = 0;
  return {
    app,
    store,
    clock,
    config,
    accounts,
    accessPort,
    url,
    async tokenFor(role) {
      users += 1;
      const email = `${role}${users}@example.test`;
      const password = 'correct horse battery staple 9';
      const { user } = await accounts.flows.register({ email, password }, { ip: null });
      await store.update((db) => {
        db.users[user.id]!.role = role;
      });
      if (role === 'guest') {
        const result = await accounts.flows.login({ email, password }, { ip: null });
        if (result.status !== 'ok') throw new Error('a guest login asked for MFA');
        return result.tokens.accessToken;
      }
      // Staff must have a second factor before any staff route admits them.
      const { secret } = await accounts.flows.beginMfaEnrolment(user.id);
      const code = totpCode(secret, clock.now());
      const { tokens } = await accounts.flows.confirmMfaEnrolment(
        { userId: user.id, sessionId: null, code },
        { ip: null },
      );
      return tokens.accessToken;
    },
  };
}
