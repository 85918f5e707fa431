import { rebuildReports } from '../../reports/rebuild.js';
import { parseFlags, UsageError, type StoreCommand } from '../command.js';

const rebuild: StoreCommand = {
  kind: 'store',
  path: ['reports', 'rebuild'],
  usage: 'reports rebuild',
  summary: 'recompute the report rollups from the accounting and audit histories and the invoices',
  mutates: true,
  async run({ store }, args) {
    const { positionals } = parseFlags(args, []);
    if (positionals.length > 0) throw new UsageError(`usage: turnpike ${this.usage}`);
    const result = await rebuildReports(store);
    const starts = [
      result.usageFrom && `accounting ${result.usageFrom}`,
      result.vouchersFrom && `audit ${result.vouchersFrom}`,
    ].filter(Boolean);
    return [
      `read ${result.accountingLines} accounting lines, ${result.redemptions} voucher redemptions, ${result.invoices} invoices`,
      ...(starts.length > 0 ? [`histories start: ${starts.join(', ')} (rollups of earlier days kept as stored)`] : []),
      result.changedRows === 0
        ? 'the rollups already matched the histories'
        : `${result.changedRows} rollup rows written or removed`,
    ];
  },
};

export const REPORTS_COMMANDS: readonly StoreCommand[] = [rebuild];
