import type { FastifyInstance } from 'fastify';
import { readAudit } from '../../appliance/console/audit-reader.js';
import type { Store } from '../../appliance/store/store.js';
import { auditFilterOf } from '../admin/audit-filter.js';
import { ADMIN, errorResponses } from './auth-schemas.js';

const entrySchema = {
  type: 'object',
  required: ['at', 'action', 'actorId', 'target', 'ip'],
  properties: {
    at: { type: 'integer', description: 'ms since the epoch' },
    action: { type: 'string' },
    actor: {
      type: 'object',
      description: 'who: `user` (id, email, role, ip as they were), `anonymous`, `system` or `scheduler`',
      required: ['kind'],
      properties: {
        kind: { type: 'string', enum: ['user', 'anonymous', 'system', 'scheduler'] },
        id: { type: 'string' },
        email: { type: 'string' },
        role: { type: 'string' },
        ip: { type: ['string', 'null'] },
      },
    },
    actorId: { type: ['string', 'null'] },
    target: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    before: { description: 'the object (or the fields that changed) before the change' },
    after: { description: 'the object (or the fields that changed) after the change' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

/** `/api/v1/audit`: the audit log, newest first, filtered like the console's page (admin). */
export async function auditApi(app: FastifyInstance, deps: { store: Store }) {
  app.get(
    '/api/v1/audit',
    {
      config: { roles: ADMIN },
      schema: {
        tags: ['audit'],
        summary: 'Audit entries, newest first, 50 a page',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            actor: { type: 'string', maxLength: 254, description: 'user id or email' },
            action: { type: 'string', maxLength: 64, description: 'an action or its family (`session`)' },
            target: { type: 'string', maxLength: 254, description: 'part of the object id, email or code' },
            from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            to: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            page: { type: 'integer', minimum: 1 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['entries', 'page', 'hasMore'],
            additionalProperties: false,
            properties: {
              entries: { type: 'array', items: entrySchema },
              page: { type: 'integer' },
              hasMore: { type: 'boolean' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => readAudit(deps.store, auditFilterOf(request.query as Record<string, unknown>).filter),
  );
}
