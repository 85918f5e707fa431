import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../shared/logger.js';
import { silentLogger } from '../../shared/logger.js';
import { ManualClock } from '../../shared/clock.js';
import { validateConfig } from '../../appliance/config/load-config.js';
import type { Config } from '../../appliance/config/schema.js';
import type { MailMessage, MailPort } from '../../appliance/mail/mail-port.js';
import { createMetrics, type Metrics } from '../../appliance/metrics.js';
import { LowdbStore } from '../../appliance/store/lowdb-store.js';
import type { SiteHealth } from '../../appliance/provisioning/provisioner-health.js';
import { recordingEnforcer } from '../testing/recording-enforcer.js';
import { buildPortal, type PortalDeps } from '../portal.js';
import { createAuthentication, type Authentication } from './create-authentication.js';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';
import type { Role } from '../../appliance/domain/model.js';
import { portalAccountsFrom } from '../pages/portal-accounts.js';
import { totpCode } from '../../appliance/accounts/totp.js';

/** The guest journey's deps as the composition root wires them, with accounts from `auth`. */
function guestJourney(
  auth: Authentication,
  shared: { store: LowdbStore; clock: ManualClock; config: Config; logger: Logger },
): NonNullable<PortalDeps['guest']> {
  return {
    ...shared,
    accounts: portalAccountsFrom(auth.accounts.flows, auth.accounts.sshKeys),
    accessPort: null,
    secret: 'test-secret-0123456789abcdef0123',
  };
}

/** Collects mail instead of sending it. */
export class CapturedMail implements MailPort {
  readonly sent: MailMessage[] = [];

  async send(message: MailMessage): Promise<void> {
    this.sent.push(message);
  }

  /** The token in the last link sent to `to`. */
  lastTokenTo(to: string): string | null {
    const message = [...this.sent].reverse().find((candidate) => candidate.to === to);
    const match = message ? /token=([A-Za-z0-9_-]+)/.exec(message.text) : null;
    return match?.[1] ?? null;
  }
}

export interface AuthHarness {
  app: FastifyInstance;
  auth: Authentication;
  store: LowdbStore;
  clock: ManualClock;
  config: Config;
  mail: CapturedMail;
  metrics: Metrics;
  dir: string;
  close(): Promise<void>;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * A portal with accounts on a temp store and a manual clock. The manual clock
 * starts at the real time so that the real-time rate limiter and jose agree.
 */
export async function startAuthHarness(
  options: {
    overrides?: Record<string, unknown>;
    logger?: Logger;
    withGuestJourney?: boolean;
    /** The dashboard's provisioner sites (with the guest journey's console). */
    provisioners?: () => SiteHealth[];
  } = {},
): Promise<AuthHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-auth-'));
  const config = validateConfig(
    {
      dataDir: dir,
      logLevel: 'silent',
      auth: { bcryptCostStaff: 10, bcryptCostGuest: 10 },
      portal: { rateLimitPerMinute: 10_000, authRateLimitPerMinute: 10_000 },
      ...options.overrides,
    },
    'test',
  );
  const store = await LowdbStore.open({ dir });
  const clock = new ManualClock(Date.now());
  const mail = new CapturedMail();
  const metrics = createMetrics({ defaultMetrics: false });
  const logger = options.logger ?? silentLogger;
  const auth = await createAuthentication({ store, clock, config, logger, metrics, mail });
  const app = await buildPortal({
    config,
    logger,
    metrics,
    authenticator: auth.authenticator,
    readiness: [],
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
    authRoutes: auth.routes,
    ...(options.withGuestJourney
      ? {
          guest: guestJourney(auth, { store, clock, config, logger }),
          staff: { store, clock, enforcer: recordingEnforcer({ store, clock }) },
          admin: {
            store,
            clock,
            accounts: auth.accounts,
            enforcer: recordingEnforcer({ store, clock }),
            ...(options.provisioners ? { provisioners: options.provisioners } : {}),
          },
        }
      : {}),
  });
  await app.ready();
  return {
    app,
    auth,
    store,
    clock,
    config,
    mail,
    metrics,
    dir,
    async close() {
      await app.close();
      await auth.accounts.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function bearer(tokens: TokenPair | string): Record<string, string> {
  return { authorization: `Bearer ${typeof tokens === 'string' ? tokens : tokens.accessToken}` };
}

export async function postJson(
  app: FastifyInstance,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });
}

/** A signed-in user of any role; staff get MFA enrolled so their session is complete. */
export async function signedInAs(
  h: AuthHarness,
  role: Role,
  email = `${role}-${Math.random().toString(36).slice(2)}@example.test`,
): Promise<{ tokens: TokenPair; userId: string; email: string; totpSecret: string | null }> {
  const created = await h.auth.accounts.users.createUser({ email, role, password: TEST_PASSWORD }, null);
  const login = await postJson(h.app, '/api/v1/auth/login', { email, password: TEST_PASSWORD });
  let tokens = login.json().tokens as TokenPair;
  if (role === 'guest') return { tokens, userId: created.user.id, email, totpSecret: null };
  const enrol = await postJson(h.app, '/api/v1/auth/mfa/enroll', undefined, bearer(tokens));
  const secret = enrol.json().secret as string;
  const confirm = await postJson(
    h.app,
    '/api/v1/auth/mfa/confirm',
    { code: totpCode(secret, h.clock.now()) },
    bearer(tokens),
  );
  tokens = confirm.json().tokens as TokenPair;
  h.clock.advance(30_000);
  return { tokens, userId: created.user.id, email, totpSecret: secret };
}
