import type { FastifyInstance } from 'fastify';
import type { AuditRecord } from '../../appliance/accounts/audit.js';
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
    const entries = result.entries.map((entry) => {
      const actor = entry.actor as AuditRecord['actor'] | undefined;
      const { before, after, details } = entry;
      const shown = {
        ...(before !== undefined ? { before } : {}),
        ...(after !== undefined ? { after } : {}),
        ...details,
      };
      return {
        ...entry,
        // Entries name their actor as they were; older ones carry only an id, looked up now.
        actor:
          actor?.kind === 'user'
            ? `${actor.email} (${actor.role})`
            : entry.actorId
              ? (store.db.users[entry.actorId]?.email ?? entry.actorId)
              : actor?.kind === 'scheduler'
                ? 'scheduler'
                : t.system,
        detailsText: Object.keys(shown).length > 0 ? JSON.stringify(shown).slice(0, 400) : '',
      };
    });
    const pager = pagerOf('/admin/audit', form, result);
    return replies.page(request, reply, 'audit', t.audit, { entries, form, pager });
  });
}
