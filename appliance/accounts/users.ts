import { normaliseEmail } from './email.js';
import type { IndexSource } from '../sessions/collection-index.js';
import { sessionIndexesOf } from '../sessions/session-indexes.js';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Db, Role, User } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';
import { auditIn, type Actor } from './audit.js';

/** What may leave the appliance about a user: never the hash, the TOTP secret or recovery codes. */
export interface PublicUser {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  emailVerified: boolean;
  disabled: boolean;
  mfaEnabled: boolean;
  mustChangePassword: boolean;
  createdAt: number;
  updatedAt: number;
}

export function publicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    emailVerified: user.emailVerified,
    disabled: user.disabled,
    mfaEnabled: hasMfa(user),
    mustChangePassword: user.mustChangePassword,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

/** TOTP is on (enrolment confirmed), not merely started. */
export function hasMfa(user: Pick<User, 'mfa'>): boolean {
  return user.mfa !== null && user.mfa.enabledAt !== null;
}

/**
 * The account with this email, through the store's users-by-email index (sign-up, sign-in and
 * password reset ask once per request). `db` is what is read: a mutation's draft, or current state.
 */
export function findUserByEmail(source: IndexSource, email: string, db: Readonly<Db> = source.db): User | undefined {
  const id = sessionIndexesOf(source).usersByEmail.lookup(db, normaliseEmail(email))[0];
  return id === undefined ? undefined : db.users[id];
}

export function isStaff(role: Role): boolean {
  return role === 'operator' || role === 'admin';
}

export function bcryptCostFor(role: Role, auth: Config['auth']): number {
  return isStaff(role) ? auth.bcryptCostStaff : auth.bcryptCostGuest;
}

/**
 * A display name is plain text: any characters except control characters,
 * 1–80 of them. It is never interpreted; whatever renders it escapes it.
 */
export function cleanDisplayName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 80 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new TurnpikeError('TP_ERR_VALIDATION', 'The display name must be 1–80 characters without control characters');
  }
  return trimmed;
}

export function defaultDisplayName(email: string): string {
  return (email.split('@')[0] ?? email).slice(0, 80) || 'user';
}

/** Whether the user still owes MFA enrolment or a password change before full access. */
export function owesSecuritySetup(user: User): boolean {
  return user.mustChangePassword || (isStaff(user.role) && !hasMfa(user));
}

export type SecuritySetupStep = 'password-change' | 'mfa-enrolment' | 'second-factor';

/** What stands between this session and full access, in the order to do it. */
export function securitySetupOf(user: PublicUser, sessionPassedSecondFactor: boolean): SecuritySetupStep[] {
  const steps: SecuritySetupStep[] = [];
  if (user.mustChangePassword) steps.push('password-change');
  if (isStaff(user.role) && !user.mfaEnabled) steps.push('mfa-enrolment');
  else if (user.mfaEnabled && !sessionPassedSecondFactor) steps.push('second-factor');
  return steps;
}

/** A new account record from fields the caller has already validated and hashed. */
export function newUser(
  fields: Pick<User, 'email' | 'displayName' | 'role' | 'passwordHash' | 'emailVerified' | 'mustChangePassword'>,
  now: number,
): User {
  return { id: randomUUID(), ...fields, disabled: false, mfa: null, sshKeys: [], createdAt: now, updatedAt: now };
}

/**
 * Stores a new account with its audit entry (`user.created` by staff or the system,
 * `user.registered` by the guest themselves); the email is checked again inside the write
 * because two sign-ups may race.
 */
export async function insertUser(
  store: Store,
  user: User,
  audit: { actor: Actor; action: 'user.created' | 'user.registered' },
): Promise<void> {
  await store.update((db, histories) => {
    if (findUserByEmail(store, user.email, db))
      throw new TurnpikeError('TP_ERR_CONFLICT', 'That email is already registered');
    db.users[user.id] = user;
    auditIn(histories, user.createdAt, audit.actor, {
      action: audit.action,
      target: user.id,
      after: { email: user.email, role: user.role, displayName: user.displayName },
    });
  });
}
