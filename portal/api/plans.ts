import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import {
  archivePlan,
  createPlan,
  listPlans,
  requirePlan,
  updatePlan,
  type PlanInput,
} from '../../appliance/plans/plans.js';
import type { Store } from '../../appliance/store/store.js';
import { requestActor } from '../auth/request-actor.js';

const nullableInt = { type: ['integer', 'null'], minimum: 1 } as const;

const planFields = {
  name: { type: 'string', minLength: 1, maxLength: 60 },
  description: { type: 'string', maxLength: 500 },
  priceMinor: { type: 'integer', minimum: 0 },
  currency: { type: 'string', pattern: '^[A-Z]{3}$' },
  durationSeconds: nullableInt,
  quotaBytes: nullableInt,
  bandwidthUpKbps: nullableInt,
  bandwidthDownKbps: nullableInt,
  maxDevices: { type: 'integer', minimum: 1, maximum: 1000 },
  idleTimeoutSeconds: nullableInt,
  services: {
    type: 'array',
    items: { type: 'string', enum: ['internet', 'ssh', 'ftp'] },
    minItems: 1,
    uniqueItems: true,
  },
  recurring: { type: 'boolean' },
  freeTier: {
    anyOf: [
      { type: 'null' },
      {
        type: 'object',
        additionalProperties: false,
        required: ['periodSeconds'],
        properties: { periodSeconds: { type: 'integer', minimum: 60 } },
      },
    ],
  },
  usagePeriod: {
    description:
      "How often the quota comes back whole: every day, week or month from the subscription's start, or from a local time of day (HH:MM in settings.timeZone; weekly on Mondays, monthly on the 1st)",
    anyOf: [
      { type: 'null' },
      {
        type: 'object',
        additionalProperties: false,
        required: ['every', 'anchor'],
        properties: {
          every: { type: 'string', enum: ['day', 'week', 'month'] },
          anchor: { type: 'string', pattern: '^(start|([01][0-9]|2[0-3]):[0-5][0-9])$' },
        },
      },
    ],
  },
  onQuotaExhausted: {
    type: 'object',
    required: ['action'],
    additionalProperties: false,
    properties: {
      action: { type: 'string', enum: ['disconnect', 'throttle'] },
      upKbps: { type: 'integer', minimum: 1 },
      downKbps: { type: 'integer', minimum: 1 },
    },
  },
  visible: { type: 'boolean' },
} as const;

const planSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...planFields,
    archived: { type: 'boolean' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

const errors = {
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  403: { $ref: 'ErrorBody#' },
  404: { $ref: 'ErrorBody#' },
  409: { $ref: 'ErrorBody#' },
};
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** Admin-managed plans: `/api/v1/plans`. Staff who sell vouchers may read them. */
export async function plansApi(app: FastifyInstance, deps: { store: Store; clock: Clock }): Promise<void> {
  const { store, clock } = deps;
  const tags = ['plans'];

  app.get(
    '/api/v1/plans',
    {
      config: { roles: ['operator', 'admin'] },
      schema: {
        tags,
        summary: 'List plans',
        querystring: { type: 'object', properties: { includeArchived: { type: 'boolean', default: false } } },
        response: { 200: { type: 'object', properties: { plans: { type: 'array', items: planSchema } } }, ...errors },
      },
    },
    async (request) => ({
      plans: listPlans(store.db, { includeArchived: (request.query as { includeArchived: boolean }).includeArchived }),
    }),
  );

  app.get(
    '/api/v1/plans/:id',
    {
      config: { roles: ['operator', 'admin'] },
      schema: { tags, summary: 'One plan', params: idParams, response: { 200: planSchema, ...errors } },
    },
    async (request) => requirePlan(store.db, (request.params as { id: string }).id),
  );

  app.post(
    '/api/v1/plans',
    {
      config: { roles: ['admin'] },
      schema: {
        tags,
        summary: 'Create a plan',
        body: { type: 'object', additionalProperties: false, required: ['name'], properties: planFields },
        response: { 201: planSchema, ...errors },
      },
    },
    async (request, reply) => {
      const plan = await createPlan(
        store,
        clock,
        request.body as Partial<PlanInput> & { name: string },
        requestActor(request),
      );
      return reply.status(201).send(plan);
    },
  );

  app.patch(
    '/api/v1/plans/:id',
    {
      config: { roles: ['admin'] },
      schema: {
        tags,
        summary: 'Change a plan',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: planFields },
        response: { 200: planSchema, ...errors },
      },
    },
    async (request) =>
      updatePlan(
        store,
        clock,
        (request.params as { id: string }).id,
        request.body as Partial<PlanInput>,
        requestActor(request),
      ),
  );

  app.delete(
    '/api/v1/plans/:id',
    {
      config: { roles: ['admin'] },
      schema: {
        tags,
        summary: 'Archive a plan (subscriptions keep it)',
        params: idParams,
        response: { 200: planSchema, ...errors },
      },
    },
    async (request) => archivePlan(store, clock, (request.params as { id: string }).id, requestActor(request)),
  );
}
