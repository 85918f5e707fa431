import { requirePlan } from '../../plans/plans.js';
import {
  createVoucherBatch,
  formatCode,
  listVoucherBatches,
  MAX_BATCH_SIZE,
  revokeVoucher,
  revokeVoucherBatch,
} from '../../vouchers/index.js';
import { parseFlags, UsageError, type StoreCommand } from '../command.js';

const DAY_MS = 86_400_000;

function positiveInt(value: string | undefined, name: string, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${name}: a positive whole number`);
  return Number(value);
}

const create: StoreCommand = {
  kind: 'store',
  path: ['voucher', 'create'],
  usage: 'voucher create --plan NAME --count N [--prefix P] [--valid-days D] [--multi-use MAX|unlimited] [--note TEXT]',
  summary: 'create a batch of voucher codes and print them',
  mutates: true,
  async run({ store, clock }, args) {
    const { flags } = parseFlags(args, ['plan', 'count', 'prefix', 'valid-days', 'multi-use', 'note']);
    if (!flags.plan || !flags.count) throw new UsageError(`usage: turnpike ${this.usage}`);
    const plan = requirePlan(store.db, flags.plan);
    const count = positiveInt(flags.count, 'count', 1)!;
    if (count > MAX_BATCH_SIZE) throw new UsageError(`--count: at most ${MAX_BATCH_SIZE}`);
    const validDays = positiveInt(flags['valid-days'], 'valid-days', 365)!;
    const multi = flags['multi-use'];
    const now = clock.now();
    const { batch, codes } = await createVoucherBatch(store, clock, {
      planId: plan.id,
      count,
      ...(flags.prefix !== undefined ? { prefix: flags.prefix } : {}),
      ...(multi !== undefined
        ? { multiUse: true, maxUses: multi === 'unlimited' ? null : positiveInt(multi, 'multi-use', null) }
        : {}),
      validFrom: now,
      validUntil: now + validDays * DAY_MS,
      note: flags.note ?? '',
      createdBy: 'cli',
    });
    return [
      `# batch ${batch.id}: ${count} × ${plan.name}, redeemable until ${new Date(batch.validUntil).toISOString().slice(0, 10)}`,
      ...codes.map((code) => formatCode(code, batch.prefix)),
    ];
  },
};

const list: StoreCommand = {
  kind: 'store',
  path: ['voucher', 'list'],
  usage: 'voucher list',
  summary: 'list voucher batches with how many codes are used',
  mutates: false,
  async run({ store }) {
    const batches = listVoucherBatches(store.db);
    if (batches.length === 0) return ['no voucher batches'];
    return batches.map(
      (b) =>
        `${b.id}  ${b.planName.padEnd(20)} ${String(b.used).padStart(5)}/${String(b.count).padEnd(5)} used  until ${new Date(b.validUntil).toISOString().slice(0, 10)}${b.revokedAt !== null ? '  REVOKED' : ''}`,
    );
  },
};

const revoke: StoreCommand = {
  kind: 'store',
  path: ['voucher', 'revoke'],
  usage: 'voucher revoke CODE | voucher revoke --batch ID',
  summary: 'revoke one code or a whole batch (time already started ends too)',
  mutates: true,
  async run({ store, clock }, args) {
    const { flags, positionals } = parseFlags(args, ['batch']);
    if (flags.batch) {
      const batch = await revokeVoucherBatch(store, clock, flags.batch);
      return [`batch ${batch.id} revoked`];
    }
    const [code] = positionals;
    if (!code) throw new UsageError(`usage: turnpike ${this.usage}`);
    await revokeVoucher(store, clock, code);
    return ['voucher revoked'];
  },
};

export const VOUCHER_COMMANDS: StoreCommand[] = [create, list, revoke];
