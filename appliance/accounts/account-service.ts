import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { MailPort } from '../mail/mail-port.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { BackgroundWork, type AccountContext, type AccountLinks } from './account-context.js';
import { createAuditTrail } from './audit.js';
import { AuthFlows } from './auth-flows.js';
import { LoginThrottle } from './login-throttle.js';
import { OneTimeTokens } from './one-time-tokens.js';
import { PasswordHasher } from './password-hasher.js';
import { SessionTokens } from './session-tokens.js';
import { SigningKeys } from './signing-keys.js';
import { createSshKeys, type SshKeys } from './ssh-keys.js';
import { UserAdmin } from './user-admin.js';

export interface AccountServiceDeps {
  store: Store;
  clock: Clock;
  config: Config;
  mail: MailPort;
  logger: Logger;
  metrics: Metrics;
  /** Where emailed links lead; defaults to the portal's `/auth/...` pages under `portal.publicUrl`. */
  links?: AccountLinks;
}

/**
 * Accounts and authentication, as one object: `flows` for sign-up, sign-in,
 * MFA, sessions and recovery; `users` for staff user management (CLI and API);
 * `keys` for signing-key rotation.
 */
export interface AccountService {
  flows: AuthFlows;
  users: UserAdmin;
  keys: SigningKeys;
  /** Each user's SSH public keys, installed on the host account an ssh plan gives them. */
  sshKeys: SshKeys;
  /** Rotates the JWT signing key; tokens signed by the previous key stay valid until they expire. */
  rotateSigningKey(actorId: string | null): Promise<string>;
  /** Checks a password against a stored hash on the hashing workers (RADIUS PAP logins). */
  verifyPassword(password: string, hash: string): Promise<boolean>;
  /** Resolves when background mail and audit work has finished (shutdown, tests). */
  settled(): Promise<void>;
  /** Waits for background work, then stops the hashing workers. */
  close(): Promise<void>;
}

export function defaultLinks(publicUrl: string): AccountLinks {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    verifyEmail: (token) => `${base}/auth/verify-email?token=${encodeURIComponent(token)}`,
    passwordReset: (token) => `${base}/auth/reset-password?token=${encodeURIComponent(token)}`,
  };
}

/** Builds the account service and makes sure a signing key exists. */
export async function createAccountService(deps: AccountServiceDeps): Promise<AccountService> {
  const { store, clock, config, logger } = deps;
  const keys = new SigningKeys({
    store,
    clock,
    issuer: config.auth.issuer,
    // A retired key must outlive every token it signed: access tokens (MFA challenges are stored, not signed).
    maxTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
  });
  await keys.ensureActive();
  const hasher = new PasswordHasher({ concurrency: config.auth.hashConcurrency });
  const context: AccountContext = {
    ...deps,
    hasher,
    keys,
    sessions: new SessionTokens({
      store,
      clock,
      keys,
      accessTtlSeconds: config.auth.accessTokenTtlSeconds,
      refreshTtlSeconds: config.auth.refreshTokenTtlSeconds,
    }),
    oneTime: new OneTimeTokens({ store, clock }),
    throttle: new LoginThrottle({ store, clock, policy: config.auth.lockout }),
    audit: createAuditTrail({ store, clock, logger }),
    links: deps.links ?? defaultLinks(config.portal.publicUrl),
    background: new BackgroundWork(logger),
  };
  return {
    flows: new AuthFlows(context),
    users: new UserAdmin(context),
    keys,
    sshKeys: createSshKeys({ store, clock }),
    async rotateSigningKey(actorId) {
      const kid = await keys.rotate();
      await context.audit({ action: 'signing_key.rotated', actorId, target: kid, ip: null });
      return kid;
    },
    verifyPassword: (password, hash) => hasher.verify(password, hash),
    settled: () => context.background.settled(),
    async close() {
      await context.background.settled();
      await hasher.close();
    },
  };
}
