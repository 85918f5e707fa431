import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { buildPortalFoundation, type PortalFoundation } from './app.js';
import { registerGuestPortal, type GuestPortalDeps } from './guest-portal.js';

export type PortalDeps = PortalFoundation & {
  /** Accounts' routes (`createAuthentication(...).routes`); its `authenticator` is the foundation's. */
  authRoutes?: FastifyPluginAsync;
  /** The guest journey (captive pages, probes, plans and vouchers); omitted in API-only tests. */
  guest?: GuestPortalDeps;
};

/** The whole HTTP door: foundation plus every feature's routes. */
export async function buildPortal(deps: PortalDeps): Promise<FastifyInstance> {
  const app = await buildPortalFoundation(deps);
  if (deps.authRoutes) await app.register(deps.authRoutes);
  if (deps.guest) await registerGuestPortal(app, deps.guest);
  return app;
}
