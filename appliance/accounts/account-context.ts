import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { MailPort } from '../mail/mail-port.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { AuditTrail } from './audit.js';
import type { LoginThrottle } from './login-throttle.js';
import type { OneTimeTokens } from './one-time-tokens.js';
import type { PasswordHasher } from './password-hasher.js';
import type { SessionTokens } from './session-tokens.js';
import type { SigningKeys } from './signing-keys.js';

/** Where emailed links point; the pages behind them call `verifyEmail` / `confirmPasswordReset`. */
export interface AccountLinks {
  verifyEmail(token: string): string;
  passwordReset(token: string): string;
}

/** Work the caller must not wait for (so answers do not vary with it), still awaitable on shutdown and in tests. */
export class BackgroundWork {
  readonly #pending = new Set<Promise<void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  run(name: string, job: () => Promise<void>): void {
    const promise = job()
      .catch((err: unknown) => this.#logger.error({ err, job: name }, 'background job failed'))
      .finally(() => this.#pending.delete(promise));
    this.#pending.add(promise);
  }

  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/** Everything the account flows share; built once by `createAccountService`. */
export interface AccountContext {
  store: Store;
  clock: Clock;
  config: Config;
  mail: MailPort;
  logger: Logger;
  metrics: Metrics;
  hasher: PasswordHasher;
  keys: SigningKeys;
  sessions: SessionTokens;
  oneTime: OneTimeTokens;
  throttle: LoginThrottle;
  audit: AuditTrail;
  links: AccountLinks;
  background: BackgroundWork;
}
