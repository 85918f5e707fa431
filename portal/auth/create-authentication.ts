import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import {
  createAccountService,
  type AccountService,
  type AccountServiceDeps,
} from '../../appliance/accounts/account-service.js';
import { authApi } from '../api/auth.js';
import { accessSummaryOf } from '../../appliance/quotas/access-summary.js';
import { meApi } from '../api/me.js';
import { usersApi } from '../api/users.js';
import { createSessionAuthenticator, type SessionAuthenticator } from './authenticator.js';
import { logoutForm } from './logout-form.js';
import { recoveryPages } from './recovery-pages.js';

export interface Authentication {
  accounts: AccountService;
  authenticator: SessionAuthenticator;
  /** Registers the cookie refresh hook, `/api/v1/auth/*`, `/api/v1/me*`, `/api/v1/users*`, `/auth/logout` and the emailed-link pages. */
  routes: FastifyPluginAsync;
}

/** Accounts plus their HTTP door: pass `authenticator` and `routes` to `buildPortal`. */
export async function createAuthentication(deps: AccountServiceDeps): Promise<Authentication> {
  return authenticationFor(await createAccountService(deps), deps);
}

/** The HTTP door for an account service the composition root already holds. */
export function authenticationFor(
  accounts: AccountService,
  deps: Pick<AccountServiceDeps, 'store' | 'clock' | 'logger' | 'config'>,
): Authentication {
  const authenticator = createSessionAuthenticator({ flows: accounts.flows, clock: deps.clock, logger: deps.logger });
  const routes = fp(
    async (app: FastifyInstance) => {
      await app.register(authenticator.cookieRefresh);
      await app.register(authApi, { accounts, config: deps.config });
      await app.register(meApi, {
        accounts,
        config: deps.config,
        access: (ownerKey) => accessSummaryOf(deps.store, ownerKey, deps.clock.now()),
      });
      await app.register(usersApi, { accounts });
      await app.register(logoutForm, { accounts });
      await app.register(recoveryPages, { accounts, config: deps.config });
    },
    { name: 'turnpike-authentication' },
  );
  return { accounts, authenticator, routes };
}
