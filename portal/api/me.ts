import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Config } from '../../appliance/config/schema.js';
import type { AccessSummary } from '../../appliance/quotas/access-summary.js';
import { securitySetupOf } from '../../appliance/accounts/users.js';
import { MAX_PUBLIC_KEY_LINE_LENGTH } from '../../appliance/accounts/ssh-keys.js';
import {
  ALL_ROLES,
  body,
  displayNameInput,
  errorResponses,
  passwordInput,
  publicUserSchema,
  securitySetupSchema,
  statusSchema,
} from './auth-schemas.js';
import { jsonBodiesOnly } from './json-only.js';

const accessSchema = {
  description: 'The plan the user may use now, or null',
  anyOf: [
    { type: 'null' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['planName', 'secondsLeft', 'bytesLeft', 'quotaResetsAt'],
      properties: {
        planName: { type: 'string' },
        secondsLeft: { type: ['integer', 'null'], description: 'null = no time limit' },
        bytesLeft: { type: ['integer', 'null'], description: 'null = no data limit' },
        quotaResetsAt: {
          type: ['integer', 'null'],
          description: 'when the data quota is whole again (ms since the epoch); null = not before a renewal',
        },
      },
    },
  ],
} as const;

const meSchema = {
  ...publicUserSchema,
  required: [...publicUserSchema.required, 'securitySetupRequired', 'access'],
  properties: {
    ...publicUserSchema.properties,
    securitySetupRequired: securitySetupSchema,
    access: accessSchema,
  },
} as const;

const sshKeySchema = {
  type: 'object',
  required: ['id', 'type', 'comment', 'fingerprint', 'line', 'addedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    type: { type: 'string', description: 'e.g. ssh-ed25519' },
    comment: { type: 'string', description: 'the comment after the key data; may be empty' },
    fingerprint: { type: 'string', description: 'SHA256:… as ssh-keygen -l prints it' },
    line: { type: 'string', description: 'the normalised OpenSSH line the host account receives' },
    addedAt: { type: 'integer', description: 'ms since the epoch' },
  },
} as const;

const sshKeyIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** `/api/v1/me`: the signed-in user's own account. */
export async function meApi(
  app: FastifyInstance,
  options: { accounts: AccountService; config: Config; access: (ownerKey: string) => AccessSummary | null },
): Promise<void> {
  jsonBodiesOnly(app);
  const { flows, users, sshKeys } = options.accounts;
  const tags = ['me'];

  app.get(
    '/api/v1/me',
    {
      config: { roles: ALL_ROLES, allowPendingMfa: true },
      schema: { tags, summary: 'The signed-in user', response: { 200: meSchema, ...errorResponses } },
    },
    async (request) => {
      const principal = request.principal!;
      const user = users.getUser(principal.userId);
      return {
        ...user,
        securitySetupRequired: securitySetupOf(user, principal.mfaSatisfied),
        access: options.access(`user:${user.id}`),
      };
    },
  );

  app.patch<{ Body: { displayName: string } }>(
    '/api/v1/me',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'Change the display name (plain text; escaped wherever shown)',
        body: body({ displayName: displayNameInput }, ['displayName']),
        response: { 200: publicUserSchema, ...errorResponses },
      },
    },
    async (request) => flows.updateProfile(request.principal!.userId, request.body),
  );

  app.patch<{ Body: { currentPassword: string; newPassword: string } }>(
    '/api/v1/me/password',
    {
      config: {
        roles: ALL_ROLES,
        allowPendingMfa: true,
        rateLimit: { max: options.config.portal.authRateLimitPerMinute, timeWindow: 60_000 },
      },
      schema: {
        tags,
        summary: 'Change the password; every other session ends',
        body: body({ currentPassword: passwordInput, newPassword: passwordInput }, ['currentPassword', 'newPassword']),
        response: { 200: statusSchema('password_changed'), ...errorResponses },
      },
    },
    async (request) => {
      const principal = request.principal!;
      await flows.changePassword(
        { userId: principal.userId, sessionId: principal.sessionId, ...request.body },
        { ip: request.ip },
      );
      return { status: 'password_changed' };
    },
  );

  app.get(
    '/api/v1/me/ssh-keys',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'My SSH public keys (used by plans that include ssh)',
        response: {
          200: {
            type: 'object',
            required: ['keys'],
            additionalProperties: false,
            properties: { keys: { type: 'array', items: sshKeySchema } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => ({ keys: sshKeys.list(request.principal!.userId) }),
  );

  app.post<{ Body: { publicKey: string } }>(
    '/api/v1/me/ssh-keys',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'Add an SSH public key: one OpenSSH line (ed25519, ECDSA or RSA ≥ 2048 bits; no DSA, no options)',
        body: body({ publicKey: { type: 'string', minLength: 1, maxLength: MAX_PUBLIC_KEY_LINE_LENGTH } }, [
          'publicKey',
        ]),
        response: { 201: sshKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = await sshKeys.add(request.principal!.userId, request.body.publicKey, { ip: request.ip });
      return reply.status(201).send(key);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/me/ssh-keys/:id',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags,
        summary: 'Remove one of my SSH public keys',
        params: sshKeyIdParams,
        response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await sshKeys.remove(request.principal!.userId, request.params.id, { ip: request.ip });
      return reply.status(204).send();
    },
  );
}
