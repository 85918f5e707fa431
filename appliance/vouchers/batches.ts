import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Db, Voucher, VoucherBatch } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';
import { auditIn, SYSTEM, type Actor } from '../accounts/audit.js';
import { formatCode, generateCode, isValidPrefix, normalizeCode } from './codes.js';

export const MAX_BATCH_SIZE = 10_000;
const DEFAULT_VALID_DAYS = 365;

export interface BatchInput {
  planId: string;
  count: number;
  prefix?: string;
  multiUse?: boolean;
  /** Redemptions per code when multi-use; null = unlimited. */
  maxUses?: number | null;
  validFrom?: number;
  validUntil?: number;
  note?: string;
  createdBy: string;
}

function invalid(field: string, message: string): TurnpikeError {
  return new TurnpikeError('TP_ERR_VALIDATION', `${field}: ${message}`, { field });
}

export async function createVoucherBatch(
  store: Store,
  clock: Clock,
  input: BatchInput,
  actor: Actor = SYSTEM,
): Promise<{ batch: VoucherBatch; codes: string[] }> {
  const now = clock.now();
  const prefix = normalizeCode(input.prefix ?? '');
  if (!Number.isSafeInteger(input.count) || input.count < 1 || input.count > MAX_BATCH_SIZE) {
    throw invalid('count', `an integer 1–${MAX_BATCH_SIZE}`);
  }
  if (!isValidPrefix(prefix)) throw invalid('prefix', 'up to 8 letters or digits');
  const multiUse = input.multiUse ?? false;
  const maxUses = multiUse ? (input.maxUses ?? null) : 1;
  if (maxUses !== null && (!Number.isSafeInteger(maxUses) || maxUses < 1))
    throw invalid('maxUses', 'a positive integer or null');
  const validFrom = input.validFrom ?? now;
  const validUntil = input.validUntil ?? validFrom + DEFAULT_VALID_DAYS * 86_400_000;
  if (!Number.isSafeInteger(validFrom) || !Number.isSafeInteger(validUntil) || validUntil <= validFrom) {
    throw invalid('validUntil', 'must be after validFrom');
  }
  if ((input.note ?? '').length > 200) throw invalid('note', '≤ 200 characters');
  return store.update((db, histories) => {
    const plan = db.plans[input.planId];
    if (!plan || plan.archived) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no plan ${input.planId}`);
    const batch: VoucherBatch = {
      id: randomUUID(),
      planId: plan.id,
      count: input.count,
      prefix,
      multiUse,
      maxUses,
      validFrom,
      validUntil,
      note: input.note ?? '',
      createdBy: input.createdBy,
      createdAt: now,
      revokedAt: null,
    };
    const codes: string[] = [];
    while (codes.length < input.count) {
      const code = generateCode(prefix);
      if (db.vouchers[code]) continue;
      db.vouchers[code] = { code, batchId: batch.id, planId: plan.id, uses: 0, firstUsedAt: null, revokedAt: null };
      codes.push(code);
    }
    db.voucherBatches[batch.id] = batch;
    auditIn(histories, now, actor, { action: 'voucher_batch.created', target: batch.id, after: batch });
    return { batch, codes };
  });
}

export interface BatchSummary extends VoucherBatch {
  planName: string;
  used: number;
  revoked: number;
}

/** `vouchers`: all of `db.vouchers`, when the caller already holds them as an array. */
export function listVoucherBatches(
  db: Readonly<Db>,
  vouchers: readonly Voucher[] = Object.values(db.vouchers),
): BatchSummary[] {
  const stats = new Map<string, { used: number; revoked: number }>();
  for (const voucher of vouchers) {
    const entry = stats.get(voucher.batchId) ?? { used: 0, revoked: 0 };
    if (voucher.uses > 0) entry.used += 1;
    if (voucher.revokedAt !== null) entry.revoked += 1;
    stats.set(voucher.batchId, entry);
  }
  return Object.values(db.voucherBatches)
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((batch) => ({
      ...batch,
      planName: db.plans[batch.planId]?.name ?? '?',
      ...(stats.get(batch.id) ?? { used: 0, revoked: 0 }),
    }));
}

export function vouchersOfBatch(
  db: Readonly<Db>,
  batchId: string,
  vouchers: readonly Voucher[] = Object.values(db.vouchers),
): Array<Voucher & { printed: string }> {
  const batch = db.voucherBatches[batchId];
  if (!batch) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no voucher batch ${batchId}`);
  return vouchers
    .filter((v) => v.batchId === batchId)
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((v) => ({ ...v, printed: formatCode(v.code, batch.prefix) }));
}

export async function revokeVoucher(
  store: Store,
  clock: Clock,
  rawCode: string,
  actor: Actor = SYSTEM,
): Promise<Voucher> {
  const code = normalizeCode(rawCode);
  return store.update((db, histories) => {
    const voucher = db.vouchers[code];
    if (!voucher) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'no such voucher');
    const now = clock.now();
    const next = { ...voucher, revokedAt: voucher.revokedAt ?? now };
    db.vouchers[code] = next;
    auditIn(histories, now, actor, {
      action: 'voucher.revoked',
      target: code,
      before: { revokedAt: voucher.revokedAt },
      after: { revokedAt: next.revokedAt },
      details: { batchId: voucher.batchId },
    });
    cancelSubscriptionsOf(db, new Set([code]), now);
    return next;
  });
}

/** Revoking a batch stops every unused and used code in it from starting new sessions. */
export async function revokeVoucherBatch(
  store: Store,
  clock: Clock,
  batchId: string,
  actor: Actor = SYSTEM,
): Promise<VoucherBatch> {
  return store.update((db, histories) => {
    const batch = db.voucherBatches[batchId];
    if (!batch) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no voucher batch ${batchId}`);
    const now = clock.now();
    const next = { ...batch, revokedAt: batch.revokedAt ?? now };
    db.voucherBatches[batchId] = next;
    const codes = new Set<string>();
    for (const voucher of Object.values(db.vouchers)) {
      if (voucher.batchId !== batchId) continue;
      codes.add(voucher.code);
      if (voucher.revokedAt === null) db.vouchers[voucher.code] = { ...voucher, revokedAt: now };
    }
    cancelSubscriptionsOf(db, codes, now);
    auditIn(histories, now, actor, {
      action: 'voucher_batch.revoked',
      target: batchId,
      before: { revokedAt: batch.revokedAt },
      after: { revokedAt: next.revokedAt },
      details: { codes: codes.size },
    });
    return next;
  });
}

/** A revoked code also ends the time it already started. */
function cancelSubscriptionsOf(db: Db, codes: ReadonlySet<string>, now: number): void {
  for (const subscription of Object.values(db.subscriptions)) {
    if (subscription.voucherCode && codes.has(subscription.voucherCode) && subscription.status === 'active') {
      db.subscriptions[subscription.id] = { ...subscription, status: 'cancelled', updatedAt: now };
    }
  }
}
