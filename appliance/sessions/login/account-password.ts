import { findUserByEmail } from '../../accounts/users.js';
import type { User } from '../../domain/model.js';
import {
  deny,
  type LoginContext,
  type LoginDecision,
  type LoginMechanism,
  type LoginRequest,
} from './login-mechanism.js';

function accountNamed(context: LoginContext, userName: string): User | null {
  if (!userName.includes('@')) return null;
  return findUserByEmail(context.store, userName) ?? null;
}

function afterPassword(ok: boolean, user: User, request: LoginRequest, context: LoginContext): LoginDecision {
  if (!ok) return deny('password', 'TP_ERR_INVALID_CREDENTIALS');
  if (user.disabled) return deny('password', 'TP_ERR_ACCOUNT_DISABLED');
  return context.loginAs('password', `user:${user.id}`, request);
}

/**
 * An account's email and password, over PAP only: a bcrypt hash cannot answer a CHAP challenge.
 * A verified password is remembered briefly, so a NAS re-authenticating costs no bcrypt.
 */
export const accountPassword: LoginMechanism = {
  name: 'password',

  claims: (request, context) => accountNamed(context, request.userName) !== null,

  authenticate(request, context): LoginDecision | Promise<LoginDecision> {
    const user = accountNamed(context, request.userName);
    if (!user || request.proof.kind !== 'pap') return deny('password', 'TP_ERR_INVALID_CREDENTIALS');
    const verdict = context.passwords.check(user.id, user.passwordHash, request.proof.password.toString('utf8'));
    return typeof verdict === 'boolean'
      ? afterPassword(verdict, user, request, context)
      : verdict.then((ok) => afterPassword(ok, user, request, context));
  },
};
