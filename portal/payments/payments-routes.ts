import type { FastifyInstance } from 'fastify';
import type { Payments } from '../../appliance/payments/payments.js';
import type { ErrorPage } from '../pages/error-page.js';
import { checkoutPages, type CompleteLogin } from './checkout-pages.js';
import { paymentsApi } from './payments-api.js';
import { webhookRoute } from './webhook-route.js';

export interface PaymentsRoutesOptions {
  payments: Payments;
  /** The portal's public base URL (config.portal.publicUrl): checkout returns here. */
  publicUrl: string | (() => string);
  /** Connects the guest after a paid checkout; without it the guest lands on /portal/status. */
  completeLogin?: CompleteLogin;
  /** Shows checkout failures as the portal's HTML error page (`createErrorPage` of the guest portal). */
  errorPage?: ErrorPage;
}

/** Every payment route: webhook, `/api/v1/payments`, `/api/v1/invoices`, guest checkout pages. */
export async function paymentsRoutes(app: FastifyInstance, options: PaymentsRoutesOptions): Promise<void> {
  const source = options.publicUrl;
  const publicUrl = (): string => (typeof source === 'string' ? source : source()).replace(/\/+$/, '');
  await app.register(webhookRoute, { payments: options.payments });
  await app.register(paymentsApi, { payments: options.payments, publicUrl });
  await app.register(checkoutPages, {
    payments: options.payments,
    publicUrl,
    ...(options.completeLogin ? { completeLogin: options.completeLogin } : {}),
    ...(options.errorPage ? { errorPage: options.errorPage } : {}),
  });
}
