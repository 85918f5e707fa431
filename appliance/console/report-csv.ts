import { DateTime } from 'luxon';
import type { AccountingLine } from '../sessions/accounting.js';
import type { UsageFact } from '../reports/rollups.js';
import type { Store } from '../store/store.js';
import { csvLine } from './csv.js';
import type { ReportRange, Reports } from './report-figures.js';

/** The reports a page offers as CSV, by the name in its URL. */
export const REPORT_CSVS = ['usage-days', 'usage-plans', 'usage-nas', 'revenue', 'vouchers', 'top-guests'] as const;
export type ReportCsv = (typeof REPORT_CSVS)[number];

export function isReportCsv(name: string): name is ReportCsv {
  return (REPORT_CSVS as readonly string[]).includes(name);
}

/** One report as CSV: the table the page shows, in raw units (octets, minor units). */
export function reportCsv(reports: Reports, name: ReportCsv): string {
  const lines: string[] = [];
  const add = (values: ReadonlyArray<string | number | null>) => lines.push(csvLine(values));
  switch (name) {
    case 'usage-days':
      add(['day', 'sessions', 'input_octets', 'output_octets']);
      for (const d of reports.days) add([d.period, d.sessions, d.inOctets, d.outOctets]);
      break;
    case 'usage-plans':
    case 'usage-nas':
      add([name === 'usage-plans' ? 'plan' : 'nas', 'id', 'sessions', 'input_octets', 'output_octets']);
      for (const s of name === 'usage-plans' ? reports.byPlan : reports.byNas) {
        add([s.name, s.id, s.sessions, s.inOctets, s.outOctets]);
      }
      break;
    case 'revenue':
      add(['month', 'plan', 'currency', 'invoices', 'gross_minor', 'refunded_minor', 'net_minor']);
      for (const r of reports.revenue) {
        add([r.month, r.planName, r.currency, r.invoices, r.grossMinor, r.refundedMinor, r.netMinor]);
      }
      break;
    case 'vouchers':
      add(['day', 'batch', 'batch_id', 'plan', 'redemptions']);
      for (const r of reports.redemptions) add([r.day, r.batchLabel, r.batchId, r.planName, r.redemptions]);
      break;
    case 'top-guests':
      add(['day', 'rank', 'guest', 'octets']);
      for (const g of reports.topGuests) add([reports.topDay, g.rank, g.label, g.octets]);
      break;
  }
  return lines.join('');
}

/** The instants a range of venue days covers: from the first day's midnight to the last's end. */
export function instantsOf(range: ReportRange, zone: string): { fromMs: number; toMs: number } {
  const first = DateTime.fromISO(range.from, { zone });
  const last = DateTime.fromISO(range.to, { zone });
  return { fromMs: first.startOf('day').toMillis(), toMs: last.endOf('day').toMillis() };
}

/**
 * Lines are appended in the order their updates commit, a moment after the time they carry: the
 * export reads this far past the range's end before it stops.
 */
const COMMIT_SLACK_MS = 5 * 60_000;
/** Lines per chunk handed to the socket. */
const CHUNK_LINES = 256;

type ExportLine = AccountingLine & { usage?: UsageFact | null };

/**
 * Every accounting line of the range as CSV, produced while the history is read, a chunk at a
 * time: memory holds a chunk, never the export, and the first rows leave before the last is read.
 * Every cell that came from a NAS or a guest goes through `csvCell`, so none can become a formula.
 */
export async function* accountingCsv(store: Store, fromMs: number, toMs: number): AsyncGenerator<string> {
  // The header leaves at once: the download starts while the history is searched for the range.
  yield csvLine([
    'at',
    'nas',
    'status',
    'acct_session_id',
    'mac',
    'ip',
    'input_octets',
    'output_octets',
    'session_time',
    'terminate_cause',
    'plan',
    'guest',
    'input_added',
    'output_added',
  ]);
  let chunk = '';
  let inChunk = 0;
  const before = (line: ExportLine) => typeof line.at === 'number' && line.at < fromMs - COMMIT_SLACK_MS;
  for await (const line of store.history<ExportLine>('accounting').stream(before)) {
    if (typeof line.at !== 'number' || line.at < fromMs) continue;
    if (line.at > toMs) {
      if (line.at > toMs + COMMIT_SLACK_MS) break;
      continue;
    }
    chunk += csvLine([
      new Date(line.at).toISOString(),
      line.nasId,
      line.status,
      line.acctSessionId,
      line.mac,
      line.ip,
      line.inputOctets,
      line.outputOctets,
      line.sessionTime,
      line.terminateCause,
      line.usage?.planId ?? null,
      line.usage?.ownerKey ?? null,
      line.usage?.inOctets ?? null,
      line.usage?.outOctets ?? null,
    ]);
    inChunk += 1;
    if (inChunk >= CHUNK_LINES) {
      yield chunk;
      chunk = '';
      inChunk = 0;
    }
  }
  if (chunk !== '') yield chunk;
}
