import type { AccountingLine } from '../sessions/accounting.js';
import type { Store } from '../store/store.js';
import { VOUCHER_REDEEMED, type RedemptionDetails } from '../vouchers/redeem.js';
import { emptyReportsState, type ReportsState } from './model.js';
import { rollInvoiceIn, rollRedemptionIn, rollRefundIn, rollUsageIn, type UsageFact } from './rollups.js';

type UsageLine = AccountingLine & { usage?: UsageFact };

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
 * The rollups recomputed from the records they count, by the same rules the live writes use:
 * usage from the 'accounting' history (each line carries what its update added), redemptions from
 * the 'voucher.redeemed' lines of the audit history, revenue from the invoices. The histories are
 * streamed, so memory holds the rollups and the day's guests, never a history. Days are those of
 * today's `settings.timeZone`.
 */
export async function computeReports(store: Store): Promise<{ reports: ReportsState; counts: RebuildCounts }> {
  const zone = store.db.settings.timeZone;
  const reports = emptyReportsState();
  const counts: RebuildCounts = { accountingLines: 0, redemptions: 0, invoices: 0 };
  for await (const line of store.history<UsageLine>('accounting').stream()) {
    counts.accountingLines += 1;
    if (line.usage && typeof line.at === 'number') rollUsageIn(reports, line.at, zone, line.nasId, line.usage);
  }
  for await (const record of store.history<RedemptionLine>('audit').stream()) {
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
  return { reports, counts };
}

const TABLES = ['usage', 'guestDays', 'topGuests', 'revenue', 'vouchers'] as const;

/** Replaces the stored rollups with `reports`, writing only the rows that differ; returns how many did. */
export function replaceReports(store: Store, reports: ReportsState): Promise<number> {
  return store.update((db) => {
    let changed = 0;
    for (const table of TABLES) {
      const stored = db.reports[table] as Record<string, unknown>;
      const wanted = reports[table] as Record<string, unknown>;
      for (const id of Object.keys(stored)) {
        if (id in wanted) continue;
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
export async function rebuildReports(store: Store): Promise<RebuildCounts & { changedRows: number }> {
  const { reports, counts } = await computeReports(store);
  return { ...counts, changedRows: await replaceReports(store, reports) };
}
