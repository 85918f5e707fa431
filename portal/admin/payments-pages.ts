import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth/request-actor.js';
import { pageOf } from '../../appliance/console/paging.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Payments } from '../../appliance/payments/payments.js';
import type { PaymentStatus } from '../../appliance/payments/model.js';
import { ADMIN, STAFF } from '../api/auth-schemas.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';
import { pagerOf, queryPage, queryText } from './query.js';

const STATUSES: readonly PaymentStatus[] = ['pending', 'paid', 'failed', 'refunded'];

type Request = Parameters<AdminReplies['page']>[0];
type Reply = Parameters<AdminReplies['page']>[1];

/**
 * Payments and their invoices (front desk), and the admin's full refund. Without a payment
 * provider the list is empty and there is nothing to refund.
 */
export function paymentsPages(
  app: FastifyInstance,
  deps: AdminPagesDeps & { logger: Logger; payments?: Pick<Payments, 'listPayments' | 'refund'> },
  replies: AdminReplies,
): void {
  const { store } = deps;

  function listPage(request: Request, reply: Reply, notice: string | null = null) {
    const t = replies.t(request, reply);
    const query = request.query as Record<string, unknown>;
    const wanted = queryText(query.status, 10);
    const status = (STATUSES as readonly string[]).includes(wanted) ? wanted : '';
    const all = (deps.payments?.listPayments() ?? []).filter((payment) => !status || payment.status === status);
    const page = pageOf(all, queryPage(query.page));
    const db = store.db;
    const rows = page.items.map((payment) => ({
      ...payment,
      email: db.users[payment.userId]?.email ?? payment.userId,
      planName: db.plans[payment.planId]?.name ?? '?',
    }));
    return replies.page(
      request,
      reply,
      'payments',
      t.paymentsTitle,
      {
        rows,
        status,
        statuses: STATUSES,
        pager: pagerOf('/admin/payments', { status }, page),
        canRefund: request.principal!.role === 'admin' && deps.payments !== undefined,
      },
      { notice },
    );
  }

  app.get('/admin/payments', pageRoute(STAFF), async (request, reply) => listPage(request, reply));

  app.post('/admin/payments/:id/refund', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const id = (request.params as { id: string }).id;
    try {
      if (!deps.payments) throw new TurnpikeError('TP_ERR_UNAVAILABLE', 'No payment provider is configured');
      if (!store.db.payments.payments[id]) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such payment');
      await deps.payments.refund(id, requestActor(request));
      return listPage(request, reply, t.refundDone);
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });
}
