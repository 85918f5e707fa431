import { normaliseEmail } from './email.js';
import type { Db, Role, User } from '../domain/model.js';
import { ROLES } from '../domain/model.js';
import { isTurnpikeError, TurnpikeError } from '../../shared/errors.js';
import type { AccountContext } from './account-context.js';
import { auditIn, SYSTEM, type Actor } from './audit.js';
import { assertAcceptablePassword } from './password-policy.js';
import { oneTimePassword } from './secrets.js';
import {
  bcryptCostFor,
  cleanDisplayName,
  defaultDisplayName,
  findUserByEmail,
  hasMfa,
  insertUser,
  newUser,
  publicUser,
  type PublicUser,
} from './users.js';

export const FIRST_ADMIN_EMAIL = 'admin@turnpike.local';

export interface CreatedUser {
  user: PublicUser;
  /** Set when no password was given: shown once, must be changed at first sign-in. */
  oneTimePassword: string | null;
}

export interface UserPatch {
  role?: Role;
  disabled?: boolean;
  displayName?: string;
  /** Clears TOTP and recovery codes (a lost phone); staff must enrol again. */
  resetMfa?: boolean;
}

function assertRole(role: string): asserts role is Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new TurnpikeError('TP_ERR_VALIDATION', `role must be one of ${ROLES.join(', ')}`);
  }
}

/** What the audit log keeps of a user's change: the fields staff change, never a hash or secret. */
function auditedUser(user: User) {
  return { role: user.role, disabled: user.disabled, displayName: user.displayName, mfaEnabled: hasMfa(user) };
}

function enabledAdmins(db: Readonly<Db>): User[] {
  return Object.values(db.users).filter((user) => user.role === 'admin' && !user.disabled);
}

/** Staff-facing user management; the CLI and `/api/v1/users` both call these. */
export class UserAdmin {
  readonly #c: AccountContext;

  constructor(context: AccountContext) {
    this.#c = context;
  }

  /**
   * Creates a user with a role. Without a password, a one-time password is generated. `null` as
   * the actor is the box itself (first run, the CLI); a guest made by staff needs no verification.
   */
  async createUser(
    input: { email: string; role: Role; displayName?: string; password?: string },
    actor: Actor | null,
  ): Promise<CreatedUser> {
    const by = actor ?? SYSTEM;
    assertRole(input.role);
    const email = normaliseEmail(input.email);
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new TurnpikeError('TP_ERR_VALIDATION', 'email is not an address');
    const displayName = cleanDisplayName(input.displayName ?? defaultDisplayName(email));
    if (input.password !== undefined) assertAcceptablePassword(input.password, { email });
    if (findUserByEmail(this.#c.store, email))
      throw new TurnpikeError('TP_ERR_CONFLICT', 'That email is already registered');
    const generated = input.password === undefined ? oneTimePassword() : null;
    const password = input.password ?? generated!;
    const passwordHash = await this.#c.hasher.hash(password, bcryptCostFor(input.role, this.#c.config.auth));
    const user = newUser(
      {
        email,
        displayName,
        role: input.role,
        passwordHash,
        emailVerified: by.kind === 'user' || input.role !== 'guest',
        mustChangePassword: generated !== null,
      },
      this.#c.clock.now(),
    );
    await insertUser(this.#c.store, user, { actor: by, action: 'user.created' });
    return { user: publicUser(user), oneTimePassword: generated };
  }

  /**
   * Creates the first admin with a one-time password when no admin exists;
   * otherwise returns null. Its first sign-in demands a new password and MFA enrolment.
   */
  async ensureFirstAdmin(options: { email?: string } = {}): Promise<{ email: string; oneTimePassword: string } | null> {
    const hasAdmin = (): boolean => Object.values(this.#c.store.db.users).some((user) => user.role === 'admin');
    if (hasAdmin()) return null;
    try {
      const created = await this.createUser({ email: options.email ?? FIRST_ADMIN_EMAIL, role: 'admin' }, null);
      return { email: created.user.email, oneTimePassword: created.oneTimePassword! };
    } catch (err) {
      // Two appliances starting on one empty database race for it; the one that lost starts too.
      if (isTurnpikeError(err, 'TP_ERR_CONFLICT') && hasAdmin()) return null;
      throw err;
    }
  }

  listUsers(filter: { role?: Role; limit?: number; offset?: number } = {}): { users: PublicUser[]; total: number } {
    const all = Object.values(this.#c.store.db.users)
      .filter((user) => filter.role === undefined || user.role === filter.role)
      .sort((a, b) => a.createdAt - b.createdAt || a.email.localeCompare(b.email));
    const offset = filter.offset ?? 0;
    const limit = filter.limit ?? all.length;
    return { users: all.slice(offset, offset + limit).map(publicUser), total: all.length };
  }

  /** By id or by email (the CLI's way of naming a user). */
  getUser(idOrEmail: string): PublicUser {
    return publicUser(this.#find(idOrEmail));
  }

  /** Role, disabling, display name and MFA reset in one write, with its audit entry (`null`: the box itself). */
  async updateUser(idOrEmail: string, patch: UserPatch, actor: Actor | null): Promise<PublicUser> {
    if (patch.role !== undefined) assertRole(patch.role);
    const displayName = patch.displayName === undefined ? undefined : cleanDisplayName(patch.displayName);
    const target = this.#find(idOrEmail);
    const updated = await this.#c.store.update((db, histories) => {
      const user = db.users[target.id];
      if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such user');
      const losesAdmin =
        user.role === 'admin' &&
        !user.disabled &&
        ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true);
      if (losesAdmin && enabledAdmins(db).length <= 1) {
        throw new TurnpikeError('TP_ERR_CONFLICT', 'This is the last enabled admin; promote another admin first');
      }
      const before = auditedUser(user);
      if (patch.role !== undefined) user.role = patch.role;
      if (patch.disabled !== undefined) user.disabled = patch.disabled;
      if (displayName !== undefined) user.displayName = displayName;
      if (patch.resetMfa === true) user.mfa = null;
      user.updatedAt = this.#c.clock.now();
      auditIn(histories, user.updatedAt, actor ?? SYSTEM, {
        action: 'user.updated',
        target: user.id,
        before,
        after: auditedUser(user),
        ...(patch.resetMfa ? { details: { resetMfa: true } } : {}),
      });
      return { ...user };
    });
    if (patch.disabled === true || patch.resetMfa === true) await this.#c.sessions.revokeUser(updated.id);
    return publicUser(updated);
  }

  setRole(idOrEmail: string, role: Role, actor: Actor | null = null): Promise<PublicUser> {
    return this.updateUser(idOrEmail, { role }, actor);
  }

  setDisabled(idOrEmail: string, disabled: boolean, actor: Actor | null = null): Promise<PublicUser> {
    return this.updateUser(idOrEmail, { disabled }, actor);
  }

  #find(idOrEmail: string): User {
    const db = this.#c.store.db;
    const user = db.users[idOrEmail] ?? findUserByEmail(this.#c.store, idOrEmail);
    if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such user');
    return user;
  }
}
