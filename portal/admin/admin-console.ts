import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../appliance/config/schema.js';
import { CollectionSnapshots } from '../../appliance/console/collection-snapshots.js';
import { createSystemHealth, type SystemHealthReader } from '../../appliance/console/system-health.js';
import type { Logger } from '../../shared/logger.js';
import type { Payments } from '../../appliance/payments/payments.js';
import type { SiteHealth } from '../../appliance/provisioning/provisioner-health.js';
import type { Store } from '../../appliance/store/store.js';
import type { StaffEnforcer } from '../api/sessions.js';
import { adminErrorHandler, createAdminReplies } from './admin-replies.js';
import { AdminRenderer } from './admin-renderer.js';
import { auditPage } from './audit-page.js';
import { dashboardPage } from './dashboard-page.js';
import { nasPages } from './nas-pages.js';
import { notFoundPage } from './not-found-page.js';
import { paymentsPages } from './payments-pages.js';
import { peoplePages } from './people-pages.js';
import { plansPages } from './plans-pages.js';
import { reportsPages } from './reports-pages.js';
import { sessionsPages } from './sessions-pages.js';
import { settingsPage } from './settings-page.js';
import { setupPages } from './setup-pages.js';
import { signInPages } from './sign-in-pages.js';
import { staffSession } from './staff-session.js';
import { vouchersPages } from './vouchers-pages.js';

export interface AdminConsoleDeps {
  store: Store;
  clock: Clock;
  config: Config;
  logger: Logger;
  accounts: AccountService;
  enforcer: StaffEnforcer;
  /** Payments and refunds; absent when no payment provider is configured. */
  payments?: Pick<Payments, 'listPayments' | 'refund'>;
  /** The Prometheus registry the RADIUS server counts into (dashboard figures). */
  registry?: Registry;
  /** The box's health for the dashboard; defaults to systeminformation on `config.dataDir`. */
  health?: SystemHealthReader;
  /** Each site's provisioner as the appliance sees it (dashboard); absent where none runs. */
  provisioners?: () => SiteHealth[];
}

/**
 * The operators' console under `/admin`: server-rendered pages in their own scope (their own
 * error pages and idle-timeout hook), the same access control and CSRF as every other route.
 */
export async function adminConsole(app: FastifyInstance, options: AdminConsoleDeps): Promise<void> {
  const deps = { ...options, renderer: new AdminRenderer(), snapshots: new CollectionSnapshots(options.store) };
  const health =
    options.health ??
    createSystemHealth({ dataDir: options.config.dataDir, clock: options.clock, logger: options.logger });
  const replies = createAdminReplies(deps);
  adminErrorHandler(app, replies);
  const session = staffSession(app, { flows: options.accounts.flows, clock: options.clock, config: options.config });
  signInPages(app, deps, replies, session);
  setupPages(app, deps, replies, session);
  dashboardPage(app, { ...deps, health }, replies);
  sessionsPages(app, deps, replies);
  peoplePages(app, deps, replies);
  plansPages(app, deps, replies);
  vouchersPages(app, deps, replies);
  nasPages(app, deps, replies);
  auditPage(app, deps, replies);
  paymentsPages(app, deps, replies);
  reportsPages(app, deps, replies);
  settingsPage(app, deps, replies);
  notFoundPage(app, replies);
}
