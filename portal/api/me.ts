import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Config } from '../../appliance/config/schema.js';
import { securitySetupOf } from '../../appliance/accounts/users.js';
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

const meSchema = {
  ...publicUserSchema,
  required: [...publicUserSchema.required, 'securitySetupRequired'],
  properties: {
    ...publicUserSchema.properties,
    securitySetupRequired: securitySetupSchema,
  },
} as const;

/** `/api/v1/me`: the signed-in user's own account. */
export async function meApi(
  app: FastifyInstance,
  options: { accounts: AccountService; config: Config },
): Promise<void> {
  jsonBodiesOnly(app);
  const { flows, users } = options.accounts;
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
      return { ...user, securitySetupRequired: securitySetupOf(user, principal.mfaSatisfied) };
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
}
