import type { AuditFilter } from '../../appliance/console/audit-reader.js';
import { queryPage, queryText } from './query.js';

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
