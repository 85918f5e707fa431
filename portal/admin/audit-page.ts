import type { FastifyInstance } from 'fastify';
import { readAudit, type AuditFilter } from '../../appliance/console/audit-reader.js';
import { ADMIN } from '../api/auth-schemas.js';
import { pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';
import { pagerOf, queryPage, queryText } from './query.js';

/** A `YYYY-MM-DD` date from a form as the start (or end) of that local day. */
function dayBound(value: string, end: boolean): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const day = new Date(`${value}T00:00:00`);
  if (Number.isNaN(day.getTime())) return undefined;
  return end ? day.getTime() + 86_400_000 - 1 : day.getTime();
}

/** The query string's audit filter (the console page and `/api/v1/audit` read the same fields). */
export function auditFilterOf(query: Record<string, unknown>): { filter: AuditFilter; form: Record<string, string> } {
  const form = {
    actor: queryText(query.actor, 254),
    action: queryText(query.action, 64),
    target: queryText(query.target, 254),
    from: queryText(query.from, 10),
    to: queryText(query.to, 10),
  };
  const from = dayBound(form.from, false);
  const to = dayBound(form.to, true);
  const filter: AuditFilter = {
    ...(form.actor ? { actor: form.actor } : {}),
    ...(form.action ? { action: form.action } : {}),
    ...(form.target ? { target: form.target } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    page: queryPage(query.page),
  };
  return { filter, form };
}

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
