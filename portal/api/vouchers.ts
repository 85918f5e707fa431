import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Eta } from 'eta';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../appliance/config/schema.js';
import { TurnpikeError } from '../../shared/errors.js';
import { localizedText } from '../../appliance/settings/settings.js';
import type { Store } from '../../appliance/store/store.js';
import {
  createVoucherBatch,
  listVoucherBatches,
  MAX_BATCH_SIZE,
  revokeVoucher,
  revokeVoucherBatch,
  vouchersOfBatch,
} from '../../appliance/vouchers/index.js';
import { formatBytes, formatDuration } from '../pages/formatting.js';
import { requestActor } from '../auth/request-actor.js';
import { MESSAGES } from '../i18n/messages.js';

const errors = {
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  403: { $ref: 'ErrorBody#' },
  404: { $ref: 'ErrorBody#' },
};
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

const batchSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    planId: { type: 'string' },
    planName: { type: 'string' },
    count: { type: 'integer' },
    prefix: { type: 'string' },
    multiUse: { type: 'boolean' },
    maxUses: { type: ['integer', 'null'] },
    validFrom: { type: 'integer' },
    validUntil: { type: 'integer' },
    note: { type: 'string' },
    createdBy: { type: 'string' },
    createdAt: { type: 'integer' },
    revokedAt: { type: ['integer', 'null'] },
    used: { type: 'integer' },
    revoked: { type: 'integer' },
  },
} as const;

const voucherSchema = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    printed: { type: 'string' },
    uses: { type: 'integer' },
    firstUsedAt: { type: ['integer', 'null'] },
    revokedAt: { type: ['integer', 'null'] },
  },
} as const;

/** Voucher batches: create, list and print (front desk: operator), revoke (admin). */
export async function vouchersApi(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; config: Config },
): Promise<void> {
  const { store, clock } = deps;
  const tags = ['vouchers'];
  const eta = new Eta({ autoEscape: true });
  const sheet = eta.compile(
    readFileSync(fileURLToPath(new URL('../views/voucher-sheet.eta', import.meta.url)), 'utf8'),
  );

  app.post(
    '/api/v1/voucher-batches',
    {
      config: { roles: ['operator', 'admin'] },
      schema: {
        tags,
        summary: 'Create a batch of voucher codes',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['planId', 'count'],
          properties: {
            planId: { type: 'string', maxLength: 64 },
            count: { type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE },
            prefix: { type: 'string', maxLength: 8, pattern: '^[A-Za-z0-9]*$' },
            multiUse: { type: 'boolean' },
            maxUses: { type: ['integer', 'null'], minimum: 1 },
            validFrom: { type: 'integer', minimum: 0 },
            validUntil: { type: 'integer', minimum: 0 },
            note: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: { batch: batchSchema, codes: { type: 'array', items: { type: 'string' } } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as Parameters<typeof createVoucherBatch>[2];
      const { batch, codes } = await createVoucherBatch(
        store,
        clock,
        { ...body, createdBy: request.principal!.userId },
        requestActor(request),
      );
      const summary = listVoucherBatches(store.db).find((b) => b.id === batch.id);
      return reply.status(201).send({ batch: summary, codes });
    },
  );

  app.get(
    '/api/v1/voucher-batches',
    {
      config: { roles: ['operator', 'admin'] },
      schema: {
        tags,
        summary: 'List batches',
        response: {
          200: { type: 'object', properties: { batches: { type: 'array', items: batchSchema } } },
          ...errors,
        },
      },
    },
    async () => ({ batches: listVoucherBatches(store.db) }),
  );

  app.get(
    '/api/v1/voucher-batches/:id',
    {
      config: { roles: ['operator', 'admin'] },
      schema: {
        tags,
        summary: 'A batch with its codes',
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: { batch: batchSchema, vouchers: { type: 'array', items: voucherSchema } },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id;
      const batch = listVoucherBatches(store.db).find((b) => b.id === id);
      if (!batch) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no voucher batch ${id}`);
      return { batch, vouchers: vouchersOfBatch(store.db, id) };
    },
  );

  app.post(
    '/api/v1/voucher-batches/:id/revoke',
    {
      config: { roles: ['admin'] },
      schema: {
        tags,
        summary: 'Revoke every code of a batch',
        params: idParams,
        response: { 200: batchSchema, ...errors },
      },
    },
    async (request) => revokeVoucherBatch(store, clock, (request.params as { id: string }).id, requestActor(request)),
  );

  app.post(
    '/api/v1/vouchers/:code/revoke',
    {
      config: { roles: ['admin'] },
      schema: {
        tags,
        summary: 'Revoke one code',
        params: { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 40 } } },
        response: { 200: voucherSchema, ...errors },
      },
    },
    async (request) => revokeVoucher(store, clock, (request.params as { code: string }).code, requestActor(request)),
  );

  app.get(
    '/api/v1/voucher-batches/:id/sheet',
    {
      config: { roles: ['operator', 'admin'] },
      schema: { tags, summary: 'Printable sheet (HTML, one card per code)', params: idParams, response: { ...errors } },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const db = store.db;
      const batch = db.voucherBatches[id];
      if (!batch) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no voucher batch ${id}`);
      const plan = db.plans[batch.planId];
      const t = MESSAGES.en;
      const html = sheet.call(eta, {
        venue: db.settings.venueName,
        primary: db.settings.primaryColor,
        venueText: localizedText(db.settings.welcomeText, 'en'),
        planName: plan?.name ?? '?',
        planTerms: plan ? `${formatDuration(plan.durationSeconds, t)}, ${formatBytes(plan.quotaBytes, t)}` : '',
        count: batch.count,
        batchId: batch.id,
        note: batch.note,
        validUntil: new Date(batch.validUntil).toISOString().slice(0, 10),
        portalUrl: `${deps.config.portal.publicUrl.replace(/\/$/, '')}/portal`,
        cards: vouchersOfBatch(db, id)
          .filter((v) => v.revokedAt === null)
          .map((v) => ({ code: v.printed })),
      });
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
    },
  );
}
