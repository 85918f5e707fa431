import type { FastifyInstance } from 'fastify';
import type { Payments } from '../../appliance/payments/payments.js';

export const WEBHOOK_PATH = '/api/v1/payments/webhook';

/**
 * The provider's webhook. The signature covers the exact bytes sent, so this
 * context keeps the body as a raw Buffer (no JSON parse before verification)
 * and is exempt from the per-address rate limit that guards guest routes.
 */
export async function webhookRoute(app: FastifyInstance, options: { payments: Payments }): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1_048_576 }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    WEBHOOK_PATH,
    {
      config: { public: true, rateLimit: false },
      schema: {
        tags: ['payments'],
        summary: 'Payment provider webhook (Stripe-Signature verified)',
        response: {
          200: {
            type: 'object',
            required: ['received'],
            properties: { received: { type: 'boolean' }, eventId: { type: 'string' }, outcome: { type: 'string' } },
          },
          '4xx': { $ref: 'ErrorBody#' },
          '5xx': { $ref: 'ErrorBody#' },
        },
      },
    },
    async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = request.headers['stripe-signature'];
      const result = await options.payments.handleWebhook(raw, typeof signature === 'string' ? signature : undefined);
      return { received: true, ...result };
    },
  );
}
