import { ownerKeyOf } from '../entitlements/entitlement.js';
import type { AccountingLine } from '../sessions/accounting.js';
import type { Store } from '../store/store.js';
import { VOUCHER_REDEEMED, type RedemptionDetails } from '../vouchers/redeem.js';
import { dayKeyOf } from './day-keys.js';
import { emptyReportsState, type ReportsState } from './model.js';
import { isEmptyUsage, rollInvoiceIn, rollRedemptionIn, rollRefundIn, rollUsageIn, type UsageFact } from './rollups.js';

/** `usage` is null on a line that added nothing, and absent on one written before the rollups existed. */
type UsageLine = AccountingLine & { usage?: UsageFact | null };

/**
 * Lines written before the rollups existed carry no usage fact: it is worked out the way the live
 * write does, from each session's previous totals in the history (sessions are forgotten at their
 * Stop, so memory holds the sessions that were live at once). The plan and guest are those of the
 * subscription the NAS echoed, when it still exists. An approximation of what the live write saw
 * (it cannot know of sessions the box closed on its own), used only for such lines.
 */
class OlderLines {
  readonly #store: Store;
  readonly #totals = new Map<string, { inputOctets: number; outputOctets: number }>();

  constructor(store: Store) {
    this.#store = store;
  }

  usageOf(line: UsageLine): UsageFact | null {
    if (line.status === 'accounting-on' || line.status === 'accounting-off') {
      for (const id of this.#totals.keys()) if (id.startsWith(`${line.nasId}/`)) this.#totals.delete(id);
      return null;
    }
    if (line.sessionId === null || typeof line.inputOctets !== 'number') return null;
    const before = line.status === 'start' ? undefined : this.#totals.get(line.sessionId);
    if (line.status === 'stop') this.#totals.delete(line.sessionId);
    else this.#totals.set(line.sessionId, { inputOctets: line.inputOctets, outputOctets: line.outputOctets });
    const subscription = line.subscriptionId ? this.#store.db.subscriptions[line.subscriptionId] : undefined;
    if (!subscription) return null;
    const fact: UsageFact = {
      inOctets: Math.max(0, line.inputOctets - (before?.inputOctets ?? 0)),
      outOctets: Math.max(0, line.outputOctets - (before?.outputOctets ?? 0)),
      planId: subscription.planId,
      ownerKey: ownerKeyOf(subscription),
      opened: before === undefined,
    };
    return isEmptyUsage(fact) ? null : fact;
  }
}

interface RedemptionLine {
  at: number;
  action: string;
  details?: Partial<RedemptionDetails>;
}

export interface RebuildCounts {
  accountingLines: number;
  redemptions: number;
  invoices: number;
}

/**
 * The first venue day each history still holds (null: none). Rotation drops a history's oldest
 * files, so the days before are not recomputed: their stored rollups are kept as they are.
 */
export interface Coverage {
  usageFrom: string | null;
  vouchersFrom: string | null;
}

/**
 * The rollups recomputed from the records they count, by the same rules the live writes use:
 * usage from the 'accounting' history (each line carries what its update added; see OlderLines for
 * lines from before), redemptions from
 * the 'voucher.redeemed' lines of the audit history, revenue from the invoices. The histories are
 * streamed, so memory holds the rollups and the day's guests, never a history. Days are those of
 * today's `settings.timeZone`.
 */
export async function computeReports(
  store: Store,
): Promise<{ reports: ReportsState; counts: RebuildCounts; coverage: Coverage }> {
  const zone = store.db.settings.timeZone;
  const reports = emptyReportsState();
  const counts: RebuildCounts = { accountingLines: 0, redemptions: 0, invoices: 0 };
  const coverage: Coverage = { usageFrom: null, vouchersFrom: null };
  const older = new OlderLines(store);
  for await (const line of store.history<UsageLine>('accounting').stream()) {
    if (typeof line.at !== 'number') continue;
    counts.accountingLines += 1;
    coverage.usageFrom ??= dayKeyOf(line.at, zone);
    const usage = line.usage === undefined ? older.usageOf(line) : line.usage;
    if (usage) rollUsageIn(reports, line.at, zone, line.nasId, usage);
  }
  for await (const record of store.history<RedemptionLine>('audit').stream()) {
    if (typeof record.at !== 'number') continue;
    coverage.vouchersFrom ??= dayKeyOf(record.at, zone);
    if (record.action !== VOUCHER_REDEEMED) continue;
    const { batchId, planId } = record.details ?? {};
    if (typeof batchId !== 'string' || typeof planId !== 'string') continue;
    counts.redemptions += 1;
    rollRedemptionIn(reports, record.at, zone, batchId, planId);
  }
  const { invoices, payments } = store.db.payments;
  for (const invoice of Object.values(invoices).sort((a, b) => a.issuedAt - b.issuedAt)) {
    const planId = payments[invoice.paymentId]?.planId ?? '';
    counts.invoices += 1;
    rollInvoiceIn(reports, invoice, planId, zone);
    if (invoice.status === 'refunded') rollRefundIn(reports, invoice, planId, zone);
  }
  return { reports, counts, coverage };
}

const TABLES = ['usage', 'guestDays', 'topGuests', 'revenue', 'vouchers'] as const;
type Table = (typeof TABLES)[number];

/** The venue day a stored rollup row counts, and the first day the rebuild recomputed for its table. */
function dayOf(table: Table, row: unknown): string | null {
  const value = row as { period?: string; day?: string };
  if (table === 'usage') return value.period?.slice(0, 10) ?? null;
  return table === 'revenue' ? null : (value.day ?? null);
}

function fromOf(table: Table, coverage: Coverage): string | null {
  if (table === 'revenue') return null;
  return table === 'vouchers' ? coverage.vouchersFrom : coverage.usageFrom;
}

/**
 * Replaces the stored rollups with `reports`, writing only the rows that differ; returns how many
 * did. Rows of days before a history's coverage are left as they are.
 */
export function replaceReports(
  store: Store,
  reports: ReportsState,
  coverage: Coverage = { usageFrom: null, vouchersFrom: null },
): Promise<number> {
  return store.update((db) => {
    let changed = 0;
    for (const table of TABLES) {
      const stored = db.reports[table] as Record<string, unknown>;
      const wanted = reports[table] as Record<string, unknown>;
      const from = fromOf(table, coverage);
      for (const id of Object.keys(stored)) {
        if (id in wanted) continue;
        const day = from === null ? null : dayOf(table, stored[id]);
        if (day !== null && day < from!) continue;
        delete stored[id];
        changed += 1;
      }
      for (const [id, row] of Object.entries(wanted)) {
        if (id in stored && JSON.stringify(stored[id]) === JSON.stringify(row)) continue;
        stored[id] = row;
        changed += 1;
      }
    }
    return changed;
  });
}

/**
 * `turnpike reports rebuild`: recompute and store. An update counted while the histories are read
 * but whose line lands after the read ends is missing from the result: the figures are exact when
 * it runs while the NAS clients are quiet (after an upgrade, before traffic); on a busy box the
 * updates of that moment may be off until a run at a quiet time.
 */
export async function rebuildReports(store: Store): Promise<RebuildCounts & Coverage & { changedRows: number }> {
  const { reports, counts, coverage } = await computeReports(store);
  return { ...counts, ...coverage, changedRows: await replaceReports(store, reports, coverage) };
}
