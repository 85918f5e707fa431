import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { createAccountService, type AccountService } from '../../appliance/accounts/account-service.js';
import { systemClock } from '../../shared/clock.js';
import { loadConfig } from '../../appliance/config/load-config.js';
import type { Config } from '../../appliance/config/schema.js';
import type { Plan } from '../../appliance/domain/model.js';
import { silentLogger } from '../../shared/logger.js';
import { OutboxMailPort } from '../../appliance/mail/mail-port.js';
import { createMetrics } from '../../appliance/metrics.js';
import { createPayments, type Payments } from '../../appliance/payments/payments.js';
import { createStripeClient } from '../../appliance/payments/stripe-client.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { MemoryAccessPort } from '../../appliance/provisioning/access-port.js';
import { LowdbStore } from '../../appliance/store/lowdb-store.js';
import { createSessionAuthenticator } from '../auth/authenticator.js';
import { clearSessionCookies, setSessionCookies } from '../auth/session-cookies.js';
import { createCompleteLogin, createErrorPage, type GuestPortalDeps } from '../guest-portal.js';
import { buildPortal } from '../portal.js';
import { startStripeFake, type StripeFake } from '../stripe-fake/stripe-fake.js';
import { paymentsRoutes } from './payments-routes.js';
import { WEBHOOK_PATH } from './webhook-route.js';
import { recordingEnforcer } from '../testing/recording-enforcer.js';

export const WEBHOOK_SECRET = 'whsec_test_turnpike_0123456789';
export const SECRET_KEY = 'sk_test_turnpike_0123456789';
const PASSWORD = 'correct horse battery staple 9';
const DAY = 86_400;

/** One running appliance: store, payments domain and the whole portal, listening on loopback. */
export interface Appliance {
  app: FastifyInstance;
  url: string;
  store: LowdbStore;
  payments: Payments;
  accounts: AccountService;
  /** Subscription ids passed to onEntitlementChanged, in order. */
  changed: string[];
}

export interface PaymentsWorld {
  fake: StripeFake;
  /** An SDK client of our own, to look at the fake as the appliance would. */
  stripe: Stripe;
  config: Config;
  dir: string;
  appliance: Appliance;
  plans: { hour: Plan; monthly: Plan };
  /** A signed-in guest: user id and bearer token. */
  guest(): Promise<{ userId: string; token: string; email: string; password: string }>;
  staffToken(role: 'operator' | 'admin'): Promise<string>;
  /** Stops the portal and closes the store, as a stopped appliance would be. */
  stopAppliance(): Promise<void>;
  startAppliance(): Promise<Appliance>;
  webhookUrl(): string;
}

export interface WorldOptions {
  graceDays?: number;
  /** Webhook retry policy of the fake; tests keep it short. */
  retry?: { baseDelayMs: number; maxDelayMs: number; maxAttempts: number };
  gateway?: boolean;
}

/**
 * The Stripe fake plus a full appliance portal wired to it through the real
 * SDK, on 127.0.0.1 ports chosen by the kernel; everything is torn down after the test.
 */
export async function startPaymentsWorld(t: TestContext, options: WorldOptions = {}): Promise<PaymentsWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-payments-'));
  const fake = await startStripeFake({
    webhookSecret: WEBHOOK_SECRET,
    apiKey: SECRET_KEY,
    retry: options.retry ?? { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 4 },
  });
  const { config } = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      logLevel: 'silent',
      portal: { publicUrl: 'http://127.0.0.1', rateLimitPerMinute: 100_000, authRateLimitPerMinute: 10_000 },
      gateway: { enabled: options.gateway ?? false },
      payments: {
        provider: 'stripe-fake',
        secretKey: SECRET_KEY,
        webhookSecret: WEBHOOK_SECRET,
        apiBase: fake.url,
        graceDays: options.graceDays ?? 3,
      },
    },
  });
  const stripe = new Stripe(SECRET_KEY, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
  const clock = systemClock;
  let appliance: Appliance | null = null;
  const accessPort = new MemoryAccessPort({ clock });

  const startAppliance = async (): Promise<Appliance> => {
    const store = await LowdbStore.open({ dir: join(dir, 'store') });
    const metrics = createMetrics({ defaultMetrics: false });
    const accounts = await createAccountService({
      store,
      clock,
      config,
      mail: new OutboxMailPort({ dir: join(dir, 'outbox'), from: config.mail.from, clock }),
      logger: silentLogger,
      metrics,
    });
    const changed: string[] = [];
    const payments = createPayments({
      store,
      clock,
      logger: silentLogger,
      config,
      stripe: createStripeClient(config.payments),
      onEntitlementChanged: (id) => {
        changed.push(id);
      },
    });
    const guest: GuestPortalDeps = {
      store,
      clock,
      config,
      logger: silentLogger,
      accounts: {
        register: (input, meta) => accounts.flows.register(input, meta),
        login: (input, meta) => accounts.flows.login(input, meta),
        logout: (input, meta) => accounts.flows.logout(input, meta),
        changePassword: (input, meta) => accounts.flows.changePassword(input, meta),
        setSessionCookies,
        clearSessionCookies,
      },
      accessPort,
      // The browser is the one device on this guest LAN; the box's ARP table would name its MAC.
      macOfAddress: () => '02:00:00:00:00:42',
      secret: 'test-handoff-secret',
    };
    const app = await buildPortal({
      config,
      logger: silentLogger,
      metrics,
      authenticator: createSessionAuthenticator({ flows: accounts.flows, clock, logger: silentLogger }),
      readiness: [],
      cookieSecret: 'test-cookie-secret-0123456789abcdef',
      guest,
      admin: { store, clock, accounts, enforcer: recordingEnforcer({ store, clock }), payments },
    });
    let url = '';
    await app.register(paymentsRoutes, {
      payments,
      publicUrl: () => url,
      completeLogin: createCompleteLogin(guest),
      errorPage: createErrorPage(guest),
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    fake.setWebhookUrl(`${url}${WEBHOOK_PATH}`);
    await payments.start();
    appliance = { app, url, store, payments, accounts, changed };
    return appliance;
  };

  const stopAppliance = async (): Promise<void> => {
    if (!appliance) return;
    const current = appliance;
    appliance = null;
    await current.payments.stop();
    await current.app.close();
    await current.accounts.settled();
    await current.store.close();
  };

  const first = await startAppliance();
  const hour = await createPlan(first.store, clock, {
    name: 'One hour',
    priceMinor: 200,
    currency: 'EUR',
    durationSeconds: 3600,
  });
  const monthly = await createPlan(first.store, clock, {
    name: 'Monthly',
    priceMinor: 1900,
    currency: 'EUR',
    durationSeconds: 30 * DAY,
    recurring: true,
  });
  t.after(async () => {
    await stopAppliance();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  let users = 0;
  const register = async (role: 'guest' | 'operator' | 'admin') => {
    const current = appliance!;
    users += 1;
    const email = `${role}${users}@example.test`;
    const { user } = await current.accounts.flows.register({ email, password: PASSWORD }, { ip: null });
    await current.store.update((db) => {
      db.users[user.id]!.role = role;
    });
    return { userId: user.id, email };
  };

  return {
    fake,
    stripe,
    config,
    dir,
    get appliance() {
      if (!appliance) throw new Error('the appliance is stopped');
      return appliance;
    },
    plans: { hour, monthly },
    async guest() {
      const { userId, email } = await register('guest');
      const result = await appliance!.accounts.flows.login({ email, password: PASSWORD }, { ip: null });
      if (result.status !== 'ok') throw new Error('a guest login asked for MFA');
      return { userId, token: result.tokens.accessToken, email, password: PASSWORD };
    },
    async staffToken(role) {
      const { userId } = await register(role);
      const { totpCode } = await import('../../appliance/accounts/totp.js');
      const flows = appliance!.accounts.flows;
      const { secret } = await flows.beginMfaEnrolment(userId);
      const { tokens } = await flows.confirmMfaEnrolment(
        { userId, sessionId: null, code: totpCode(secret, clock.now()) },
        { ip: null },
      );
      return tokens.accessToken;
    },
    stopAppliance,
    startAppliance,
    webhookUrl: () => `${appliance!.url}${WEBHOOK_PATH}`,
  };
}
