import { MAX_PASSWORD_BYTES } from '../../appliance/accounts/password-policy.js';
import type { Role } from '../../appliance/domain/model.js';

/** Schemas shared by the auth, me and users routes. Inputs refuse unknown fields; outputs list every field. */

export const ALL_ROLES: readonly Role[] = ['guest', 'operator', 'admin'];
export const STAFF: readonly Role[] = ['operator', 'admin'];
export const ADMIN: readonly Role[] = ['admin'];

export const errorResponses = {
  '4xx': { $ref: 'ErrorBody#' },
  '5xx': { $ref: 'ErrorBody#' },
} as const;

export const emailInput = { type: 'string', format: 'email', minLength: 3, maxLength: 254 } as const;
/** bcrypt reads 72 bytes: the schema says so, and the policy counts bytes for non-ASCII passwords. */
export const passwordInput = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_PASSWORD_BYTES,
  description: `at most ${MAX_PASSWORD_BYTES} bytes in UTF-8`,
} as const;
export const displayNameInput = { type: 'string', minLength: 1, maxLength: 80 } as const;
export const roleInput = { type: 'string', enum: ALL_ROLES } as const;
export const opaqueTokenInput = { type: 'string', minLength: 16, maxLength: 4096 } as const;

export const publicUserSchema = {
  type: 'object',
  required: [
    'id',
    'email',
    'displayName',
    'role',
    'emailVerified',
    'disabled',
    'mfaEnabled',
    'mustChangePassword',
    'createdAt',
    'updatedAt',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    displayName: { type: 'string' },
    role: { type: 'string', enum: ALL_ROLES },
    emailVerified: { type: 'boolean' },
    disabled: { type: 'boolean' },
    mfaEnabled: { type: 'boolean' },
    mustChangePassword: { type: 'boolean' },
    createdAt: { type: 'integer', description: 'ms since the epoch' },
    updatedAt: { type: 'integer', description: 'ms since the epoch' },
  },
} as const;

export const securitySetupSchema = {
  type: 'array',
  items: { type: 'string', enum: ['password-change', 'mfa-enrolment', 'second-factor'] },
  description: 'what this session must do before it reaches anything but /me, password change and MFA enrolment',
} as const;

export const tokenPairSchema = {
  type: 'object',
  required: ['accessToken', 'refreshToken', 'tokenType', 'expiresIn', 'refreshExpiresIn'],
  additionalProperties: false,
  properties: {
    accessToken: { type: 'string' },
    refreshToken: { type: 'string' },
    tokenType: { type: 'string', enum: ['Bearer'] },
    expiresIn: { type: 'integer' },
    refreshExpiresIn: { type: 'integer' },
  },
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['status', 'user', 'tokens'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ok'] },
    user: publicUserSchema,
    tokens: tokenPairSchema,
  },
} as const;

export function statusSchema(...values: string[]) {
  return {
    type: 'object',
    required: ['status'],
    additionalProperties: false,
    properties: { status: { type: 'string', enum: values }, message: { type: 'string' } },
  } as const;
}

export function body<P extends Record<string, unknown>>(properties: P, required: (keyof P & string)[]) {
  return { type: 'object', additionalProperties: false, required, properties } as const;
}
