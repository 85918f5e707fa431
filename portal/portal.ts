import type { FastifyInstance } from 'fastify';
import { buildPortalFoundation, type PortalFoundation } from './app.js';

export type PortalDeps = PortalFoundation;

/** The whole HTTP door: foundation plus every feature's routes. */
export async function buildPortal(deps: PortalDeps): Promise<FastifyInstance> {
  const app = await buildPortalFoundation(deps);
  return app;
}
