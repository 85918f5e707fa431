import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TurnpikeError } from '../../shared/errors.js';
import type { Payments } from '../../appliance/payments/payments.js';
import type { ErrorPage } from '../pages/error-page.js';

/** Finishes the guest's login after a paid checkout (controller hand-off or gateway allow). */
export type CompleteLogin = (request: FastifyRequest, reply: FastifyReply, ownerKey: string) => Promise<void>;

export interface CheckoutPagesOptions {
  payments: Payments;
  publicUrl: () => string;
  completeLogin?: CompleteLogin;
  /** Renders a failure as the portal's HTML error page; without it the API's JSON error shape answers. */
  errorPage?: ErrorPage;
}

/**
 * The captive side of paying: the landing page's "Buy" form posts here, the
 * guest pays on the provider's hosted page (card data never touches us), and
 * comes back to the return route, which applies the payment at once.
 */
export async function checkoutPages(app: FastifyInstance, options: CheckoutPagesOptions): Promise<void> {
  const { payments, publicUrl } = options;
  const guestRoles = ['guest', 'operator', 'admin'] as const;

  // These are browser form posts and redirects: a guest who is not signed in is sent to log in,
  // any other failure is shown as a page with a way back, never as a JSON body.
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof TurnpikeError && err.code === 'TP_ERR_UNAUTHENTICATED')
      return reply.redirect('/portal/login', 303);
    if (options.errorPage) return options.errorPage(request, reply, err);
    throw err;
  });

  app.post<{ Body: Record<string, unknown> }>(
    '/portal/checkout',
    {
      config: { roles: guestRoles },
      schema: { hide: true, body: { type: 'object', additionalProperties: true } },
      preHandler: app.csrfProtection,
    },
    async (request, reply) => {
      const planId = typeof request.body.planId === 'string' ? request.body.planId.slice(0, 64) : '';
      // The status page's top-up form names the running subscription the data is for.
      const topUp = typeof request.body.topUp === 'string' ? request.body.topUp.slice(0, 64) : '';
      const started = await payments.startCheckout({
        userId: request.principal!.userId,
        planId,
        ...(topUp ? { topUpOf: topUp } : {}),
        successUrl: `${publicUrl()}/portal/checkout/return`,
        cancelUrl: `${publicUrl()}/portal`,
      });
      return reply.redirect(started.url, 303);
    },
  );

  app.get<{ Querystring: { session_id?: string } }>(
    '/portal/checkout/return',
    {
      config: { roles: guestRoles },
      schema: {
        hide: true,
        querystring: { type: 'object', properties: { session_id: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const sessionId = request.query.session_id ?? '';
      const payment = await payments.confirmCheckout(sessionId, principal.userId);
      if (payment.status !== 'paid') return reply.redirect('/portal/status', 303);
      // A top-up changed the running session's limits in place: no new login, back to the status page.
      if (payment.topUpOf !== undefined && payment.subscriptionId === payment.topUpOf)
        return reply.redirect('/portal/status?done=top-up', 303);
      if (options.completeLogin) {
        await options.completeLogin(request, reply, `user:${principal.userId}`);
        return reply;
      }
      return reply.redirect('/portal/status', 303);
    },
  );
}
