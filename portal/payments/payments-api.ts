import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isStaff } from '../../appliance/accounts/users.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Invoice, Payment } from '../../appliance/payments/model.js';
import type { Payments } from '../../appliance/payments/payments.js';
import { ADMIN, ALL_ROLES, body, errorResponses } from '../api/auth-schemas.js';
import { jsonBodiesOnly } from '../api/json-only.js';
import { requestActor } from '../auth/request-actor.js';

const tags = ['payments'];

const paymentSchema = {
  type: 'object',
  required: ['id', 'userId', 'planId', 'kind', 'amountMinor', 'currency', 'status', 'createdAt'],
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    planId: { type: 'string' },
    kind: { type: 'string', enum: ['one-off', 'recurring'] },
    amountMinor: { type: 'integer' },
    currency: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'paid', 'failed', 'refunded'] },
    subscriptionId: { type: ['string', 'null'] },
    invoiceNumber: { type: ['string', 'null'] },
    failureMessage: { type: ['string', 'null'] },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

const invoiceSchema = {
  type: 'object',
  required: ['number', 'paymentId', 'userId', 'issuedAt', 'currency', 'totalMinor', 'status'],
  properties: {
    number: { type: 'string' },
    paymentId: { type: 'string' },
    userId: { type: 'string' },
    issuedAt: { type: 'integer' },
    seller: { type: 'object', additionalProperties: true },
    buyer: { type: 'object', additionalProperties: true },
    lines: { type: 'array', items: { type: 'object', additionalProperties: true } },
    currency: { type: 'string' },
    subtotalMinor: { type: 'integer' },
    taxMinor: { type: 'integer' },
    totalMinor: { type: 'integer' },
    status: { type: 'string', enum: ['paid', 'refunded'] },
  },
} as const;

function principalOf(request: FastifyRequest): { userId: string; staff: boolean } {
  const principal = request.principal;
  if (!principal) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED');
  return { userId: principal.userId, staff: isStaff(principal.role) };
}

/** Guests see their own; staff see everyone's. Someone else's record is "not found", not "forbidden". */
function ownOrStaff<T extends { userId: string }>(request: FastifyRequest, record: T): T {
  const actor = principalOf(request);
  if (!actor.staff && record.userId !== actor.userId) throw new TurnpikeError('TP_ERR_NOT_FOUND');
  return record;
}

/** `/api/v1/payments` and `/api/v1/invoices`. */
export async function paymentsApi(
  app: FastifyInstance,
  options: { payments: Payments; publicUrl: () => string },
): Promise<void> {
  jsonBodiesOnly(app);
  const { payments } = options;

  app.get<{ Querystring: { userId?: string } }>(
    '/api/v1/payments',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'Payments: your own, or (staff) everyone’s, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { userId: { type: 'string', maxLength: 64 } },
        },
        response: { 200: { type: 'array', items: paymentSchema }, ...errorResponses },
      },
    },
    async (request): Promise<Payment[]> => {
      const actor = principalOf(request);
      const userId = actor.staff ? request.query.userId : actor.userId;
      return payments.listPayments(userId ? { userId } : {});
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/payments/:id',
    {
      config: { roles: ALL_ROLES },
      schema: { tags, summary: 'One payment and its status', response: { 200: paymentSchema, ...errorResponses } },
    },
    async (request) => ownOrStaff(request, payments.getPayment(request.params.id)),
  );

  app.post<{ Body: { planId: string; topUpOf?: string } }>(
    '/api/v1/payments/checkout',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'Start paying for a plan; send the browser to the returned hosted checkout URL',
        body: body(
          {
            planId: { type: 'string', minLength: 1, maxLength: 64 },
            topUpOf: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: "a top-up: the caller's running subscription whose data the plan adds to",
            },
          },
          ['planId'],
        ),
        response: {
          201: {
            type: 'object',
            required: ['paymentId', 'url'],
            properties: { paymentId: { type: 'string' }, url: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const actor = principalOf(request);
      const started = await payments.startCheckout({
        userId: actor.userId,
        planId: request.body.planId,
        ...(request.body.topUpOf !== undefined ? { topUpOf: request.body.topUpOf } : {}),
        successUrl: `${options.publicUrl()}/portal/checkout/return`,
        cancelUrl: `${options.publicUrl()}/portal`,
      });
      return reply.code(201).send({ paymentId: started.paymentId, url: started.url });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/payments/:id/refund',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Refund a paid payment in full; the access it bought is revoked',
        response: { 200: paymentSchema, ...errorResponses },
      },
    },
    async (request) => payments.refund(request.params.id, requestActor(request)),
  );

  app.post<{ Params: { id: string }; Body: { cancelAtPeriodEnd: boolean } }>(
    '/api/v1/payments/subscriptions/:id/cancel-at-period-end',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'End a recurring plan when the paid period ends (false takes that back)',
        body: body({ cancelAtPeriodEnd: { type: 'boolean' } }, ['cancelAtPeriodEnd']),
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await payments.setCancelAtPeriodEnd(request.params.id, request.body.cancelAtPeriodEnd, principalOf(request));
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { userId?: string } }>(
    '/api/v1/invoices',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'Invoices: your own, or (staff) everyone’s, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { userId: { type: 'string', maxLength: 64 } },
        },
        response: { 200: { type: 'array', items: invoiceSchema }, ...errorResponses },
      },
    },
    async (request): Promise<Invoice[]> => {
      const actor = principalOf(request);
      const userId = actor.staff ? request.query.userId : actor.userId;
      return payments.listInvoices(userId ? { userId } : {});
    },
  );

  const numberParam = {
    type: 'object',
    required: ['number'],
    properties: { number: { type: 'string', pattern: '^\\d{4}-\\d{6}$' } },
  } as const;

  app.get<{ Params: { number: string } }>(
    '/api/v1/invoices/:number',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'One invoice',
        params: numberParam,
        response: { 200: invoiceSchema, ...errorResponses },
      },
    },
    async (request) => ownOrStaff(request, payments.getInvoice(request.params.number)),
  );

  app.get<{ Params: { number: string } }>(
    '/api/v1/invoices/:number/html',
    { config: { roles: ALL_ROLES }, schema: { tags, summary: 'The invoice as printable HTML', params: numberParam } },
    async (request, reply) => {
      ownOrStaff(request, payments.getInvoice(request.params.number));
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'private, no-store')
        .send(payments.invoiceHtml(request.params.number));
    },
  );

  app.get<{ Params: { number: string } }>(
    '/api/v1/invoices/:number/pdf',
    { config: { roles: ALL_ROLES }, schema: { tags, summary: 'The invoice as a PDF download', params: numberParam } },
    async (request, reply) => {
      ownOrStaff(request, payments.getInvoice(request.params.number));
      const pdf = await payments.invoicePdf(request.params.number);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="invoice-${request.params.number}.pdf"`)
        .header('cache-control', 'private, no-store')
        .send(pdf);
    },
  );
}
