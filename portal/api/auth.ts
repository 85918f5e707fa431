import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Config } from '../../appliance/config/schema.js';
import { TurnpikeError } from '../../shared/errors.js';
import {
  ADMIN,
  ALL_ROLES,
  body,
  displayNameInput,
  emailInput,
  errorResponses,
  opaqueTokenInput,
  passwordInput,
  publicUserSchema,
  securitySetupSchema,
  sessionSchema,
  statusSchema,
  tokenPairSchema,
} from './auth-schemas.js';
import { jsonBodiesOnly } from './json-only.js';

export interface AuthApiOptions {
  accounts: AccountService;
  config: Config;
}

function meta(request: FastifyRequest) {
  return { ip: request.ip };
}

/** `/api/v1/auth/*`: sign-up, sign-in, second factor, sessions, recovery. */
export async function authApi(app: FastifyInstance, options: AuthApiOptions): Promise<void> {
  jsonBodiesOnly(app);
  const { flows } = options.accounts;
  const rateLimit = { max: options.config.portal.authRateLimitPerMinute, timeWindow: 60_000 };
  const open = { public: true, rateLimit } as const;
  const signedIn = { roles: ALL_ROLES, allowPendingMfa: true, rateLimit } as const;
  const tags = ['auth'];

  app.post<{ Body: { email: string; password: string; displayName?: string } }>(
    '/api/v1/auth/register',
    {
      config: open,
      schema: {
        tags,
        summary:
          'Create a guest account, then sign in with /auth/login. The answer is the same whether or not the address was taken (its owner is told by mail)',
        security: [],
        body: body({ email: emailInput, password: passwordInput, displayName: displayNameInput }, [
          'email',
          'password',
        ]),
        response: { 202: statusSchema('accepted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      await flows.register(request.body, meta(request));
      return reply.status(202).send({
        status: 'accepted',
        message: 'Sign in with your password. We have sent a message to the address.',
      });
    },
  );

  app.post<{ Body: { email: string; password: string } }>(
    '/api/v1/auth/login',
    {
      config: open,
      schema: {
        tags,
        summary: 'Sign in; answers mfa_required when a second factor is due',
        security: [],
        body: body({ email: { type: 'string', minLength: 1, maxLength: 254 }, password: passwordInput }, [
          'email',
          'password',
        ]),
        response: {
          200: {
            type: 'object',
            required: ['status'],
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: ['ok', 'mfa_required'] },
              user: publicUserSchema,
              tokens: tokenPairSchema,
              mfaToken: { type: 'string', description: 'present with mfa_required; send it to /auth/mfa' },
              securitySetupRequired: securitySetupSchema,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => flows.login(request.body, meta(request)),
  );

  app.post<{ Body: { mfaToken: string; code?: string; recoveryCode?: string } }>(
    '/api/v1/auth/mfa',
    {
      config: open,
      schema: {
        tags,
        summary: 'Second step of sign-in: a TOTP code or a recovery code',
        security: [],
        body: body(
          {
            mfaToken: opaqueTokenInput,
            code: { type: 'string', pattern: '^[0-9]{6}$' },
            recoveryCode: { type: 'string', minLength: 4, maxLength: 64 },
          },
          ['mfaToken'],
        ),
        response: { 200: sessionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { code, recoveryCode } = request.body;
      if ((code === undefined) === (recoveryCode === undefined)) {
        throw new TurnpikeError('TP_ERR_VALIDATION', 'Send either code or recoveryCode');
      }
      const { user, tokens } = await flows.completeMfa(request.body, meta(request));
      return { status: 'ok', user, tokens };
    },
  );

  app.post(
    '/api/v1/auth/mfa/enroll',
    {
      config: signedIn,
      schema: {
        tags,
        summary: 'Start TOTP enrolment: returns the secret and an otpauth:// URL',
        response: {
          200: {
            type: 'object',
            required: ['secret', 'otpauthUrl'],
            additionalProperties: false,
            properties: { secret: { type: 'string' }, otpauthUrl: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => flows.beginMfaEnrolment(request.principal!.userId),
  );

  app.post<{ Body: { code: string } }>(
    '/api/v1/auth/mfa/confirm',
    {
      config: signedIn,
      schema: {
        tags,
        summary: 'Finish TOTP enrolment with a first code; returns recovery codes (shown once) and a new session',
        body: body({ code: { type: 'string', pattern: '^[0-9]{6}$' } }, ['code']),
        response: {
          200: {
            type: 'object',
            required: ['recoveryCodes', 'user', 'tokens'],
            additionalProperties: false,
            properties: {
              recoveryCodes: { type: 'array', items: { type: 'string' } },
              user: publicUserSchema,
              tokens: tokenPairSchema,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = request.principal!;
      return flows.confirmMfaEnrolment(
        { userId: principal.userId, sessionId: principal.sessionId, code: request.body.code },
        meta(request),
      );
    },
  );

  app.post<{ Body: { password: string; code: string } }>(
    '/api/v1/auth/mfa/disable',
    {
      config: { roles: ALL_ROLES, rateLimit },
      schema: {
        tags,
        summary: 'Turn MFA off (guests only; staff must keep it), proving the password and a current code',
        body: body({ password: passwordInput, code: { type: 'string', pattern: '^[0-9]{6}$' } }, ['password', 'code']),
        response: { 200: publicUserSchema, ...errorResponses },
      },
    },
    async (request) => flows.disableMfa({ userId: request.principal!.userId, ...request.body }, meta(request)),
  );

  app.post<{ Body: { refreshToken: string } }>(
    '/api/v1/auth/refresh',
    {
      config: open,
      schema: {
        tags,
        summary: 'Exchange a refresh token for a new pair (the old one stops working; reuse revokes the session)',
        security: [],
        body: body({ refreshToken: opaqueTokenInput }, ['refreshToken']),
        response: { 200: tokenPairSchema, ...errorResponses },
      },
    },
    async (request) => flows.refresh(request.body.refreshToken, meta(request)),
  );

  app.post<{ Body: { refreshToken?: string } | undefined }>(
    '/api/v1/auth/logout',
    {
      config: open,
      schema: {
        tags,
        summary: 'End the session of the bearer token and/or of the given refresh token',
        body: body({ refreshToken: opaqueTokenInput }, []),
        response: { 200: statusSchema('logged_out'), ...errorResponses },
      },
      // A bearer-only logout has no body; validate it as an empty object.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const principal = request.principal;
      await flows.logout(
        {
          sessionId: principal?.sessionId ?? null,
          ...(request.body?.refreshToken ? { refreshToken: request.body.refreshToken } : {}),
          actorId: principal?.userId ?? null,
        },
        meta(request),
      );
      return { status: 'logged_out' };
    },
  );

  app.post<{ Body: { email: string } }>(
    '/api/v1/auth/password-reset',
    {
      config: open,
      schema: {
        tags,
        summary: 'Mail a reset link; the answer is the same whether or not the email is registered',
        security: [],
        body: body({ email: emailInput }, ['email']),
        response: { 202: statusSchema('accepted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      flows.requestPasswordReset(request.body.email, meta(request));
      return reply.status(202).send({
        status: 'accepted',
        message: 'If that address belongs to an account, a reset link is on its way. It works once, for 30 minutes.',
      });
    },
  );

  app.post<{ Body: { token: string; password: string } }>(
    '/api/v1/auth/password-reset/confirm',
    {
      config: open,
      schema: {
        tags,
        summary: 'Set a new password with the emailed token (single use); ends every session',
        security: [],
        body: body({ token: opaqueTokenInput, password: passwordInput }, ['token', 'password']),
        response: { 200: statusSchema('password_changed'), ...errorResponses },
      },
    },
    async (request) => {
      await flows.confirmPasswordReset(request.body, meta(request));
      return { status: 'password_changed' };
    },
  );

  app.post<{ Body: { token: string } }>(
    '/api/v1/auth/verify-email',
    {
      config: open,
      schema: {
        tags,
        summary: 'Confirm an email address with the emailed token',
        security: [],
        body: body({ token: opaqueTokenInput }, ['token']),
        response: { 200: statusSchema('verified'), ...errorResponses },
      },
    },
    async (request) => {
      await flows.verifyEmail(request.body.token, meta(request));
      return { status: 'verified' };
    },
  );

  app.post(
    '/api/v1/auth/signing-keys/rotate',
    {
      config: { roles: ADMIN, rateLimit },
      schema: {
        tags,
        summary: 'Rotate the JWT signing key; tokens of the previous key stay valid until they expire',
        response: {
          200: {
            type: 'object',
            required: ['kid'],
            additionalProperties: false,
            properties: { kid: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => ({ kid: await options.accounts.rotateSigningKey(request.principal!.userId) }),
  );
}
