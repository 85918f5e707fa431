import type { FastifyInstance } from 'fastify';
import { readAudit } from '../../appliance/console/audit-reader.js';
import { auditFilterOf } from './audit-filter.js';
import { ADMIN } from '../api/auth-schemas.js';
import { pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';
import { pagerOf } from './query.js';

/** The audit log (admin): who did what to which object and when, newest first. */
export function auditPage(app: FastifyInstance, deps: AdminPagesDeps, replies: AdminReplies): void {
  const { store } = deps;

  app.get('/admin/audit', pageRoute(ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const { filter, form } = auditFilterOf(request.query as Record<string, unknown>);
    const result = await readAudit(store, filter);
    const emails = new Map<string, string>();
    for (const entry of result.entries) {
      if (entry.actorId && !emails.has(entry.actorId)) {
        emails.set(entry.actorId, store.db.users[entry.actorId]?.email ?? entry.actorId);
      }
    }
    const entries = result.entries.map((entry) => ({
      ...entry,
      actor: entry.actorId ? (emails.get(entry.actorId) ?? entry.actorId) : t.system,
      detailsText: entry.details ? JSON.stringify(entry.details).slice(0, 400) : '',
    }));
    const pager = pagerOf('/admin/audit', form, result);
    return replies.page(request, reply, 'audit', t.audit, { entries, form, pager });
  });
}
