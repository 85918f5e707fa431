import { newUser } from '../accounts/users.js';
import type { User } from '../domain/model.js';

/**
 * A complete guest User record for tests and benchmarks: the fields a new account gets, a fixed
 * id (and an email made from it), plus what the caller sets.
 */
export function userRecord(overrides: Partial<User> & Pick<User, 'id'>, now = 0): User {
  const fields = {
    email: `${overrides.id}@example.test`,
    displayName: overrides.id,
    role: 'guest',
    passwordHash: '',
    emailVerified: true,
    mustChangePassword: false,
  } as const;
  return { ...newUser(fields, now), ...overrides };
}
