import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import { entitlementOf } from '../../appliance/sessions/owner-entitlements.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { EnforcementOutcome, SessionEnforcer } from '../../appliance/sessions/enforcer.js';
import type { Store } from '../../appliance/store/store.js';
import { STAFF, errorResponses } from './auth-schemas.js';
import { jsonBodiesOnly } from './json-only.js';
import { requestActor } from '../auth/request-actor.js';

export type StaffEnforcer = Pick<SessionEnforcer, 'kick' | 'refreshLimits'>;

export interface StaffApiDeps {
  store: Store;
  clock: Clock;
  enforcer: StaffEnforcer;
  logger: Logger;
}

const nullableInt = { type: ['integer', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** What the NAS answered, flattened for staff: the outcome and, when there is one, why. */
export const outcomeSchema = {
  type: 'object',
  required: ['sessionId', 'kind', 'outcome'],
  additionalProperties: false,
  properties: {
    sessionId: { type: 'string' },
    kind: { type: 'string', enum: ['disconnect', 'coa'] },
    outcome: { type: 'string', enum: ['ack', 'nak', 'timeout', 'skipped'] },
    attempts: { type: 'integer' },
    errorCause: nullableInt,
    errorCauseName: nullableString,
    why: { type: 'string' },
  },
} as const;

export function outcomeView(outcome: EnforcementOutcome): Record<string, unknown> {
  return { sessionId: outcome.sessionId, kind: outcome.kind, ...outcome.result };
}

const liveSessionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    subscriptionId: { type: 'string' },
    ownerKey: { type: 'string' },
    mode: { type: 'string', enum: ['controller', 'gateway'] },
    nasId: nullableString,
    nasName: nullableString,
    mac: { type: 'string' },
    ip: nullableString,
    startedAt: { type: 'integer' },
    lastUpdateAt: { type: 'integer' },
    inputOctets: { type: 'integer' },
    outputOctets: { type: 'integer' },
    planName: nullableString,
    secondsLeft: nullableInt,
    bytesLeft: nullableInt,
    disconnectPending: { type: 'boolean' },
  },
} as const;

/** Live sessions for the front desk, and the staff kick (RFC 5176 Disconnect-Request through the enforcer). */
export async function sessionsApi(app: FastifyInstance, deps: StaffApiDeps): Promise<void> {
  jsonBodiesOnly(app);
  const { store, clock, enforcer } = deps;
  const tags = ['sessions'];

  app.get(
    '/api/v1/sessions',
    {
      config: { roles: STAFF },
      schema: {
        tags,
        summary: 'Live sessions with what is left of their entitlement',
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: { sessions: { type: 'array', items: liveSessionSchema } },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const db = store.db;
      const now = clock.now();
      const sessions = Object.values(db.sessions)
        .sort((a, b) => b.startedAt - a.startedAt)
        .map((session) => {
          const subscription = db.subscriptions[session.subscriptionId];
          const entitlement = subscription ? entitlementOf(store, subscription, now) : null;
          return {
            id: session.id,
            subscriptionId: session.subscriptionId,
            ownerKey: session.ownerKey,
            mode: session.mode,
            nasId: session.nasId,
            nasName: session.nasId === null ? null : (db.nasClients[session.nasId]?.name ?? null),
            mac: session.mac,
            ip: session.ip,
            startedAt: session.startedAt,
            lastUpdateAt: session.lastUpdateAt,
            inputOctets: session.inputOctets,
            outputOctets: session.outputOctets,
            planName: entitlement?.plan.name ?? null,
            secondsLeft: entitlement?.secondsLeft ?? null,
            bytesLeft: entitlement?.bytesLeft ?? null,
            disconnectPending: session.disconnectPendingSince !== null,
          };
        });
      return { sessions };
    },
  );

  app.delete(
    '/api/v1/sessions/:id',
    {
      config: { roles: STAFF },
      schema: {
        tags,
        summary: 'Kick a session: the NAS is asked to disconnect it',
        params: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 200: outcomeSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!store.db.sessions[id]) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no live session ${id}`);
      const outcome = await enforcer.kick(id, requestActor(request));
      return outcomeView(outcome);
    },
  );
}
