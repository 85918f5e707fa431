import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth/request-actor.js';
import { csvLine } from '../../appliance/console/csv.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { listPlans } from '../../appliance/plans/plans.js';
import {
  createVoucherBatch,
  listVoucherBatches,
  MAX_BATCH_SIZE,
  normalizeCode,
  revokeVoucher,
  revokeVoucherBatch,
  vouchersOfBatch,
} from '../../appliance/vouchers/index.js';
import { ADMIN, STAFF } from '../api/auth-schemas.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { pageOf } from '../../appliance/console/paging.js';
import { pagerOf, queryPage } from './query.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';

type Request = Parameters<AdminReplies['page']>[0];
type Reply = Parameters<AdminReplies['page']>[1];

/** Voucher batches: create, look up, print, export (front desk); revoke (admin). */
export function vouchersPages(app: FastifyInstance, deps: AdminPagesDeps & { logger: Logger }, replies: AdminReplies) {
  const { store, clock } = deps;

  function listPage(request: Request, reply: Reply, options: { notice?: string; error?: string } = {}) {
    const t = replies.t(request, reply);
    const batches = pageOf(
      listVoucherBatches(store.db, deps.snapshots.list('vouchers')),
      queryPage((request.query as Record<string, unknown>).page),
    );
    return replies.page(
      request,
      reply,
      'vouchers',
      t.vouchers,
      {
        batches: batches.items,
        pager: pagerOf('/admin/vouchers', {}, batches),
        plans: listPlans(store.db),
        maxBatch: MAX_BATCH_SIZE,
      },
      options,
    );
  }

  function batchPage(request: Request, reply: Reply, id: string, notice: string | null = null) {
    const t = replies.t(request, reply);
    const batch = listVoucherBatches(store.db, deps.snapshots.list('vouchers')).find(
      (candidate) => candidate.id === id,
    );
    if (!batch) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such voucher batch');
    const isAdmin = request.principal!.role === 'admin';
    return replies.page(
      request,
      reply,
      'batch',
      `${t.batch}: ${batch.planName}`,
      { batch, vouchers: vouchersOfBatch(store.db, id, deps.snapshots.list('vouchers')), isAdmin },
      { notice },
    );
  }

  app.get('/admin/vouchers', pageRoute(STAFF), async (request, reply) => listPage(request, reply));

  app.post('/admin/vouchers', formRoute(app, STAFF), async (request, reply) => {
    const t = replies.t(request, reply);
    const body = request.body as FormBody;
    try {
      const days = Number(field(body, 'validDays', 6) || '365');
      if (!Number.isSafeInteger(days) || days < 1 || days > 3650) {
        throw new TurnpikeError('TP_ERR_VALIDATION', 'validDays: 1–3650', { field: 'validDays' });
      }
      const now = clock.now();
      const { batch } = await createVoucherBatch(
        store,
        clock,
        {
          planId: field(body, 'planId', 64),
          count: Number(field(body, 'count', 6)),
          prefix: field(body, 'prefix', 8),
          note: field(body, 'note', 200),
          validFrom: now,
          validUntil: now + days * 86_400_000,
          createdBy: request.principal!.userId,
        },
        requestActor(request),
      );
      return batchPage(request, reply, batch.id, t.batchCreated);
    } catch (err) {
      return listPage(request, reply, { error: replies.failureText(request, reply, err) });
    }
  });

  app.get('/admin/vouchers/:id', pageRoute(STAFF), async (request, reply) =>
    batchPage(request, reply, (request.params as { id: string }).id),
  );

  app.get('/admin/vouchers/:id/csv', pageRoute(STAFF), async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const batch = listVoucherBatches(store.db, deps.snapshots.list('vouchers')).find(
      (candidate) => candidate.id === id,
    );
    if (!batch) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such voucher batch');
    let csv = csvLine(['code', 'plan', 'uses', 'first_used_at', 'revoked_at', 'valid_until', 'note']);
    const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());
    for (const voucher of vouchersOfBatch(store.db, id, deps.snapshots.list('vouchers'))) {
      csv += csvLine([
        voucher.printed,
        batch.planName,
        voucher.uses,
        iso(voucher.firstUsedAt),
        iso(voucher.revokedAt),
        iso(batch.validUntil),
        batch.note,
      ]);
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="vouchers-${id.slice(0, 8)}.csv"`)
      .send(csv);
  });

  app.post('/admin/vouchers/:id/revoke', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const id = (request.params as { id: string }).id;
    try {
      await revokeVoucherBatch(store, clock, id, requestActor(request));
      return batchPage(request, reply, id, t.batchRevoked);
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });

  app.post('/admin/vouchers/:id/revoke-code', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const id = (request.params as { id: string }).id;
    try {
      const code = field(request.body as FormBody, 'code', 40);
      if (store.db.vouchers[normalizeCode(code)]?.batchId !== id) {
        throw new TurnpikeError('TP_ERR_NOT_FOUND', 'That code is not in this batch');
      }
      await revokeVoucher(store, clock, code, requestActor(request));
      return batchPage(request, reply, id, t.codeRevoked);
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });
}
