import type { FastifyInstance } from 'fastify';
import { extendSubscription, staffGrant, subscriptionsOf } from '../../appliance/subscriptions/subscriptions.js';
import { ADMIN, STAFF, errorResponses } from './auth-schemas.js';
import { jsonBodiesOnly } from './json-only.js';
import { requestActor } from '../auth/request-actor.js';
import { outcomeSchema, outcomeView, type StaffApiDeps } from './sessions.js';

/** A year at a time: a typo in `seconds` should not hand out a decade. */
export const MAX_EXTEND_SECONDS = 366 * 86_400;

const nullableInt = { type: ['integer', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

const subscriptionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    userId: nullableString,
    voucherCode: nullableString,
    planId: { type: 'string' },
    source: { type: 'string', enum: ['voucher', 'free-tier', 'payment', 'staff-grant'] },
    sourceRef: nullableString,
    status: { type: 'string', enum: ['active', 'past_due', 'suspended', 'cancelled', 'expired'] },
    startedAt: { type: 'integer' },
    endsAt: nullableInt,
    bytesUsed: { type: 'integer' },
    cancelAtPeriodEnd: { type: 'boolean' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

const statusSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    subscription: subscriptionSchema,
    planName: { type: 'string' },
    usable: { type: 'boolean' },
    secondsLeft: nullableInt,
    bytesLeft: nullableInt,
    quotaResetsAt: nullableInt,
    liveSessions: { type: 'integer' },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** Staff view of an owner's subscriptions; admins grant plans and extend time. */
export async function subscriptionsApi(app: FastifyInstance, deps: StaffApiDeps): Promise<void> {
  jsonBodiesOnly(app);
  const { store, clock, enforcer, logger } = deps;
  const tags = ['subscriptions'];

  app.get(
    '/api/v1/subscriptions',
    {
      config: { roles: STAFF },
      schema: {
        tags,
        summary: "An owner's subscriptions, newest first, with what is left of each",
        querystring: {
          type: 'object',
          required: ['owner'],
          additionalProperties: false,
          properties: { owner: { type: 'string', maxLength: 80, pattern: '^(user|voucher):[^\\s:]{1,64}$' } },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: { subscriptions: { type: 'array', items: statusSchema } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { owner } = request.query as { owner: string };
      return { subscriptions: subscriptionsOf(store, owner, clock.now()) };
    },
  );

  app.post(
    '/api/v1/subscriptions',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Grant a plan to a user (staff grant)',
        body: {
          type: 'object',
          required: ['userId', 'planId'],
          additionalProperties: false,
          properties: {
            userId: { type: 'string', minLength: 1, maxLength: 64 },
            planId: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: { 201: subscriptionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId, planId } = request.body as { userId: string; planId: string };
      const staffUserId = request.principal!.userId;
      const subscription = await staffGrant(store, clock, { userId, planId, staffUserId }, requestActor(request));
      return reply.status(201).send(subscription);
    },
  );

  app.post(
    '/api/v1/subscriptions/:id/extend',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Add time; live sessions get the new Session-Timeout by CoA',
        params: idParams,
        body: {
          type: 'object',
          required: ['seconds'],
          additionalProperties: false,
          properties: { seconds: { type: 'integer', minimum: 1, maximum: MAX_EXTEND_SECONDS } },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: { subscription: subscriptionSchema, sessions: { type: 'array', items: outcomeSchema } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { seconds } = request.body as { seconds: number };
      const subscription = await extendSubscription(store, clock, id, seconds, requestActor(request));
      // The extension is committed; a CoA failure must not report it as failed.
      const outcomes = await enforcer.refreshLimits(id).catch((err: unknown) => {
        logger.error({ err, subscriptionId: id }, 'refreshing live sessions after an extension failed');
        return [];
      });
      return { subscription, sessions: outcomes.map(outcomeView) };
    },
  );
}
