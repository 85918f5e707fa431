import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Payments } from '../appliance/payments/payments.js';
import { buildPortalFoundation, type PortalFoundation } from './app.js';
import { createCompleteLogin, createErrorPage, registerGuestPortal, type GuestPortalDeps } from './guest-portal.js';
import { paymentsRoutes } from './payments/payments-routes.js';
import { sessionsApi, type StaffApiDeps } from './api/sessions.js';
import { subscriptionsApi } from './api/subscriptions.js';
import { auditApi } from './api/audit.js';
import { nasApi } from './api/nas.js';
import { adminConsole, type AdminConsoleDeps } from './admin/admin-console.js';

export type PortalDeps = PortalFoundation & {
  /** Accounts' routes (`createAuthentication(...).routes`); its `authenticator` is the foundation's. */
  authRoutes?: FastifyPluginAsync;
  /** The guest journey (captive pages, probes, plans and vouchers); omitted in API-only tests. */
  guest?: GuestPortalDeps;
  /** Checkout, webhooks, payments and invoices; omitted when no payment provider is configured. */
  payments?: Payments;
  /** Staff session and subscription management (kick, grant, extend); omitted where no enforcer runs. */
  staff?: Omit<StaffApiDeps, 'logger'>;
  /** The operators' console under `/admin`, with `/api/v1/nas` and `/api/v1/audit`. */
  admin?: Omit<AdminConsoleDeps, 'logger' | 'config'>;
};

/** The whole HTTP door: foundation plus every feature's routes. */
export async function buildPortal(deps: PortalDeps): Promise<FastifyInstance> {
  const app = await buildPortalFoundation(deps);
  if (deps.authRoutes) await app.register(deps.authRoutes);
  if (deps.guest) await registerGuestPortal(app, deps.guest);
  if (deps.payments) {
    const guest = deps.guest;
    await app.register(paymentsRoutes, {
      payments: deps.payments,
      publicUrl: deps.config.portal.publicUrl,
      ...(guest ? { completeLogin: createCompleteLogin(guest), errorPage: createErrorPage(guest) } : {}),
    });
  }
  if (deps.staff) {
    const staff: StaffApiDeps = { ...deps.staff, logger: deps.logger };
    await app.register(async (api) => sessionsApi(api, staff));
    await app.register(async (api) => subscriptionsApi(api, staff));
  }
  if (deps.admin) {
    const payments = deps.admin.payments ?? deps.payments;
    const admin: AdminConsoleDeps = {
      ...deps.admin,
      logger: deps.logger,
      config: deps.config,
      registry: deps.metrics.registry,
      ...(payments ? { payments } : {}),
    };
    await app.register(async (pages) => adminConsole(pages, admin));
    await app.register(async (api) => nasApi(api, admin));
    await app.register(async (api) => auditApi(api, admin));
  }
  return app;
}
