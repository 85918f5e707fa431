import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { UserPatch } from '../../appliance/accounts/user-admin.js';
import type { Role } from '../../appliance/domain/model.js';
import {
  ADMIN,
  body,
  displayNameInput,
  emailInput,
  errorResponses,
  passwordInput,
  publicUserSchema,
  roleInput,
  STAFF,
} from './auth-schemas.js';
import { jsonBodiesOnly } from './json-only.js';
import { requestActor } from '../auth/request-actor.js';

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 254 } },
} as const;

/** `/api/v1/users`: staff read, admins change. */
export async function usersApi(app: FastifyInstance, options: { accounts: AccountService }): Promise<void> {
  jsonBodiesOnly(app);
  const { users } = options.accounts;
  const tags = ['users'];

  app.get<{ Querystring: { role?: Role; limit: number; offset: number } }>(
    '/api/v1/users',
    {
      config: { roles: STAFF },
      schema: {
        tags,
        summary: 'List users, oldest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            role: roleInput,
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['users', 'total'],
            additionalProperties: false,
            properties: { users: { type: 'array', items: publicUserSchema }, total: { type: 'integer' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => users.listUsers(request.query),
  );

  app.post<{ Body: { email: string; role: Role; displayName?: string; password?: string } }>(
    '/api/v1/users',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Create a user with a role; without a password a one-time password is returned once',
        body: body({ email: emailInput, role: roleInput, displayName: displayNameInput, password: passwordInput }, [
          'email',
          'role',
        ]),
        response: {
          201: {
            type: 'object',
            required: ['user', 'oneTimePassword'],
            additionalProperties: false,
            properties: { user: publicUserSchema, oneTimePassword: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const created = await users.createUser(request.body, requestActor(request));
      return reply.status(201).send(created);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/users/:id',
    {
      config: { roles: STAFF },
      schema: { tags, summary: 'One user', params: idParams, response: { 200: publicUserSchema, ...errorResponses } },
    },
    async (request) => users.getUser(request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: UserPatch }>(
    '/api/v1/users/:id',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Change role, disable/enable (ends sessions), rename, or reset MFA',
        params: idParams,
        body: {
          ...body(
            {
              role: roleInput,
              disabled: { type: 'boolean' },
              displayName: displayNameInput,
              resetMfa: { type: 'boolean' },
            },
            [],
          ),
          minProperties: 1,
        },
        response: { 200: publicUserSchema, ...errorResponses },
      },
    },
    async (request) => users.updateUser(request.params.id, request.body, requestActor(request)),
  );
}
