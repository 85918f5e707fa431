import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Dialect, NasClient } from '../../appliance/domain/model.js';
import type { Logger } from '../../shared/logger.js';
import {
  addNasClient,
  DIALECTS,
  listNasClients,
  removeNasClient,
  updateNasClient,
} from '../../appliance/nas/nas-clients.js';
import { nasTrustFigures, nasTrustSchema } from '../../appliance/nas/nas-trust.js';
import type { Store } from '../../appliance/store/store.js';
import { TurnpikeError } from '../../shared/errors.js';
import { ADMIN, errorResponses } from './auth-schemas.js';
import { jsonBodiesOnly } from './json-only.js';
import { requestActor } from '../auth/request-actor.js';

const nasSchema = {
  type: 'object',
  required: ['id', 'name', 'source', 'dialect', 'coaPort', 'requireMessageAuthenticator', 'createdAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    source: { type: 'string', description: 'address or CIDR, IPv4 or IPv6' },
    dialect: { type: 'string', enum: DIALECTS },
    coaPort: { type: 'integer' },
    requireMessageAuthenticator: { type: 'boolean' },
    createdAt: { type: 'integer' },
    secret: { type: 'string', description: 'only in the answer to POST: the shared secret, shown once' },
    trust: {
      ...nasTrustSchema,
      description:
        'what the NAS showed so far: last seen, interim cadence, missing Stops, Message-Authenticator, ignored disconnects (GET only)',
    },
  },
} as const;

const nasInput = {
  type: 'object',
  required: ['name', 'source'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 63 },
    source: { type: 'string', maxLength: 64 },
    secret: { type: 'string', minLength: 8, maxLength: 128 },
    dialect: { type: 'string', enum: DIALECTS },
    coaPort: { type: 'integer', minimum: 1, maximum: 65535 },
    requireMessageAuthenticator: { type: 'boolean' },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** A NAS without its secrets: the shared secret is shown once, at creation. */
function shown(client: NasClient) {
  return {
    id: client.id,
    name: client.name,
    source: client.source,
    dialect: client.dialect,
    coaPort: client.coaPort,
    requireMessageAuthenticator: client.requireMessageAuthenticator,
    createdAt: client.createdAt,
  };
}

/** `/api/v1/nas`: the RADIUS clients this box answers (admin). */
export async function nasApi(app: FastifyInstance, deps: { store: Store; clock: Clock; logger: Logger }) {
  jsonBodiesOnly(app);
  const { store, clock } = deps;
  const tags = ['nas'];

  app.get(
    '/api/v1/nas',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'NAS clients (without their secrets)',
        response: {
          200: {
            type: 'object',
            required: ['nas'],
            additionalProperties: false,
            properties: { nas: { type: 'array', items: nasSchema } },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({
      nas: listNasClients(store).map((client) => ({ ...shown(client), trust: nasTrustFigures(store.db, client.id) })),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/nas/:id',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'One NAS client (by id or name) with its trust figures, without its secrets',
        params: idParams,
        response: { 200: nasSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const client = store.db.nasClients[id] ?? listNasClients(store).find((candidate) => candidate.name === id);
      if (!client) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no NAS client ${id}`);
      return { ...shown(client), trust: nasTrustFigures(store.db, client.id) };
    },
  );

  app.post<{
    Body: {
      name: string;
      source: string;
      secret?: string;
      dialect?: Dialect;
      coaPort?: number;
      requireMessageAuthenticator?: boolean;
    };
  }>(
    '/api/v1/nas',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Add a NAS client; the answer carries its shared secret, once',
        body: nasInput,
        response: { 201: nasSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const client = await addNasClient(store, clock, request.body, requestActor(request));
      return reply.status(201).send({ ...shown(client), secret: client.secret });
    },
  );

  app.patch<{
    Params: { id: string };
    Body: {
      name?: string;
      source?: string;
      secret?: string;
      dialect?: Dialect;
      coaPort?: number;
      requireMessageAuthenticator?: boolean;
    };
  }>(
    '/api/v1/nas/:id',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Change a NAS client; a new secret replaces the shared secret',
        params: idParams,
        body: { ...nasInput, required: [], minProperties: 1 },
        response: { 200: nasSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { after } = await updateNasClient(store, clock, request.params.id, request.body, requestActor(request));
      return shown(after);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/nas/:id',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Remove a NAS client (by id or name)',
        params: idParams,
        response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await removeNasClient(store, clock, request.params.id, requestActor(request));
      return reply.status(204).send();
    },
  );
}
