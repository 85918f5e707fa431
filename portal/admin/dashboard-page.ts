import type { FastifyInstance } from 'fastify';
import { dashboardFigures } from '../../appliance/console/dashboard-figures.js';
import type { Registry } from 'prom-client';
import { radiusFigures } from '../../appliance/console/radius-figures.js';
import { usageTrends } from '../../appliance/console/report-figures.js';
import type { SystemHealthReader } from '../../appliance/console/system-health.js';
import type { SiteHealth } from '../../appliance/provisioning/provisioner-health.js';
import { STAFF } from '../api/auth-schemas.js';
import { pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';

/** The console's front page: the day's figures, sessions and traffic over 24 h and 30 days, the NAS clients and the box's own health. */
export function dashboardPage(
  app: FastifyInstance,
  deps: AdminPagesDeps & { health: SystemHealthReader; registry?: Registry; provisioners?: () => SiteHealth[] },
  replies: AdminReplies,
): void {
  app.get('/admin', pageRoute(STAFF), async (request, reply) => {
    const t = replies.t(request, reply);
    const figures = dashboardFigures(deps.store.db, deps.snapshots, deps.clock.now());
    const trends = usageTrends(deps.store.db, deps.clock.now());
    const health = await deps.health.current();
    const radius = deps.registry ? await radiusFigures(deps.registry) : null;
    const provisioners = deps.provisioners?.() ?? [];
    return replies.page(request, reply, 'dashboard', t.dashboard, { figures, health, radius, trends, provisioners });
  });
}
