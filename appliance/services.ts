import type { Clock } from '../shared/clock.js';
import type { Config } from './config/schema.js';
import type { Logger } from '../shared/logger.js';
import { createAccountService, type AccountService } from './accounts/account-service.js';
import { createMailPort, type MailPort } from './mail/mail-port.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Store } from './store/store.js';

/**
 * The domain services that both the running appliance and the offline CLI
 * need. The doors (portal, RADIUS, provisioner) are wired in `main.ts`.
 */
export interface ApplianceServices {
  accounts: AccountService;
  mail: MailPort;
  metrics: Metrics;
}

export async function createServices(deps: {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}): Promise<ApplianceServices> {
  const metrics = deps.metrics ?? createMetrics({ defaultMetrics: false });
  const mail = createMailPort({ config: deps.config, clock: deps.clock, logger: deps.logger });
  const accounts = await createAccountService({ ...deps, mail, metrics });
  return { accounts, mail, metrics };
}
