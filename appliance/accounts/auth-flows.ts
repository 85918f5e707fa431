import { normaliseEmail } from './email.js';
import type { Db, Role, User } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import { auditIn, userActor, type Actor } from './audit.js';
import type { HistoryWriter } from '../store/store.js';
import type { AccountContext } from './account-context.js';
import { attemptsOf, takeFromWindow } from './attempt-counters.js';
import { assertAcceptablePassword } from './password-policy.js';
import { MFA_TOKEN_TTL_SECONDS, type TokenPair } from './session-tokens.js';
import { acceptedTotpCounter, newRecoveryCodes, newTotpSecret, otpauthUrl, recoveryCodeHash } from './totp.js';
import {
  bcryptCostFor,
  cleanDisplayName,
  defaultDisplayName,
  findUserByEmail,
  insertUser,
  newUser,
  hasMfa,
  isStaff,
  owesSecuritySetup,
  publicUser,
  securitySetupOf,
  type PublicUser,
  type SecuritySetupStep,
} from './users.js';

export interface RequestMeta {
  ip: string | null;
}

export type LoginResult =
  | { status: 'ok'; user: PublicUser; tokens: TokenPair; securitySetupRequired: SecuritySetupStep[] }
  | { status: 'mfa_required'; mfaToken: string };

/** A verified access token checked against the live account (role, disabled, revoked session). */
export interface AccessGrant {
  userId: string;
  /** As the account reads now: the audit log names staff by it. */
  email: string;
  role: Role;
  /** False while the user owes a second factor, MFA enrolment or a password change. */
  mfaSatisfied: boolean;
  sessionId: string;
}

/** What `register` did; only trusted callers may see `created` — HTTP answers must not differ on it. */
export interface Registration {
  user: PublicUser;
  created: boolean;
}

const RESET_TTL_SECONDS = 30 * 60;
const VERIFY_TTL_SECONDS = 24 * 60 * 60;
const HOUR_MS = 60 * 60 * 1000;

/** Sign-up, sign-in, second factor, sessions and password recovery. */
export class AuthFlows {
  readonly #c: AccountContext;

  constructor(context: AccountContext) {
    this.#c = context;
  }

  /**
   * Sign-up that tells nobody who has an account: a new address gets a guest account and a
   * verification mail, a taken one gets a notice mailed to its owner. Both hash the password,
   * write once to the store and audit once, so they take the same time; neither signs in —
   * the caller signs in with the password, which works only for the account's owner.
   */
  async register(
    input: { email: string; password: string; displayName?: string },
    meta: RequestMeta,
  ): Promise<Registration> {
    const email = normaliseEmail(input.email);
    const displayName = cleanDisplayName(input.displayName ?? defaultDisplayName(email));
    assertAcceptablePassword(input.password, { email });
    const passwordHash = await this.#c.hasher.hash(input.password, bcryptCostFor('guest', this.#c.config.auth));
    const existing = findUserByEmail(this.#c.store, email);
    if (existing) {
      const notify = await this.#takeAccountMail(existing.id);
      await this.#c.audit({
        action: 'user.registration_of_taken_email',
        actorId: null,
        target: existing.id,
        ip: meta.ip,
      });
      if (notify) this.#c.background.run('registration-notice-mail', () => this.#sendRegistrationNotice(existing));
      return { user: publicUser(existing), created: false };
    }
    const user = newUser(
      { email, displayName, role: 'guest', passwordHash, emailVerified: false, mustChangePassword: false },
      this.#c.clock.now(),
    );
    const self: Actor = { kind: 'user', id: user.id, email: user.email, role: user.role, ip: meta.ip };
    await insertUser(this.#c.store, user, { actor: self, action: 'user.registered' });
    this.#c.background.run('verification-mail', () => this.#sendVerification(user));
    return { user: publicUser(user), created: true };
  }

  async login(input: { email: string; password: string }, meta: RequestMeta): Promise<LoginResult> {
    const email = normaliseEmail(input.email);
    const address = meta.ip ?? 'unknown';
    this.#refuseWhileLockedOut(email, address);
    const user = findUserByEmail(this.#c.store, email);
    const ok = user
      ? await this.#c.hasher.verify(input.password, user.passwordHash)
      : await this.#c.hasher.verifyNothing(input.password, this.#c.config.auth.bcryptCostGuest);
    if (!ok || !user) {
      await this.#recordFailure(email, address, meta);
      this.#c.metrics.loginOutcomes.inc({ outcome: 'failure' });
      await this.#c.audit({ action: 'login.failed', actorId: null, target: email, ip: meta.ip });
      throw new TurnpikeError('TP_ERR_INVALID_CREDENTIALS');
    }
    if (user.disabled) {
      this.#c.metrics.loginOutcomes.inc({ outcome: 'disabled' });
      throw new TurnpikeError('TP_ERR_ACCOUNT_DISABLED');
    }
    if (hasMfa(user)) {
      // The back-off is cleared by the second factor, not here: a known password must not reset code guessing.
      this.#c.metrics.loginOutcomes.inc({ outcome: 'mfa_required' });
      const mfaToken = await this.#c.oneTime.issue(user.id, 'mfa-challenge', MFA_TOKEN_TTL_SECONDS);
      return { status: 'mfa_required', mfaToken };
    }
    await this.#c.throttle.recordSuccess(email, address);
    this.#c.metrics.loginOutcomes.inc({ outcome: 'success' });
    await this.#c.audit({ action: 'login.succeeded', actorId: user.id, target: user.id, ip: meta.ip });
    const shown = publicUser(user);
    const tokens = await this.#c.sessions.issue(user, false);
    // A staff member without MFA gets a session that only reaches enrolment and password change.
    return { status: 'ok', user: shown, tokens, securitySetupRequired: securitySetupOf(shown, false) };
  }

  /**
   * The second step of a login: a TOTP code or one unused recovery code. The `mfaToken` is spent
   * with the session it buys, lives five minutes, and only the newest sign-in attempt's works.
   */
  async completeMfa(
    input: { mfaToken: string; code?: string; recoveryCode?: string },
    meta: RequestMeta,
  ): Promise<{ user: PublicUser; tokens: TokenPair }> {
    const userId = this.#c.oneTime.peek(input.mfaToken, 'mfa-challenge');
    const current = userId ? this.#c.store.db.users[userId] : undefined;
    if (!userId || !current || current.disabled || !hasMfa(current)) throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
    const address = meta.ip ?? 'unknown';
    this.#refuseWhileLockedOut(current.email, address);
    const now = this.#c.clock.now();
    const accepted = await this.#c.store.update((db) => {
      const mfa = db.users[userId]?.mfa;
      if (!mfa) return false;
      let spend: () => void;
      if (input.code !== undefined) {
        const counter = acceptedTotpCounter(mfa, input.code, now);
        if (counter === null) return false;
        spend = () => (mfa.lastCounter = counter);
      } else if (input.recoveryCode !== undefined) {
        const index = mfa.recoveryCodeHashes.indexOf(recoveryCodeHash(input.recoveryCode));
        if (index < 0) return false;
        spend = () => mfa.recoveryCodeHashes.splice(index, 1);
      } else {
        return false;
      }
      // Checked and spent in the same mutation, so two requests racing with one token get one session.
      if (this.#c.oneTime.consumeIn(db, input.mfaToken, 'mfa-challenge') !== userId) {
        throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
      }
      spend();
      return true;
    });
    if (!accepted) {
      await this.#recordFailure(current.email, address, meta);
      this.#c.metrics.loginOutcomes.inc({ outcome: 'mfa_failure' });
      await this.#c.audit({ action: 'login.mfa_failed', actorId: null, target: userId, ip: meta.ip });
      throw new TurnpikeError('TP_ERR_MFA_INVALID');
    }
    await this.#c.throttle.recordSuccess(current.email, address);
    this.#c.metrics.loginOutcomes.inc({ outcome: 'success' });
    const method = input.code !== undefined ? 'totp' : 'recovery-code';
    await this.#c.audit({
      action: 'login.succeeded',
      actorId: userId,
      target: userId,
      ip: meta.ip,
      details: { method },
    });
    const user = this.#c.store.db.users[userId]!;
    return { user: publicUser(user), tokens: await this.#c.sessions.issue(user, true) };
  }

  async refresh(refreshToken: string, meta: RequestMeta): Promise<TokenPair> {
    const { outcome, tokens } = await this.#c.sessions.rotate(refreshToken);
    if (outcome.kind === 'reused') {
      await this.#c.audit({
        action: 'session.refresh_reused',
        actorId: null,
        target: outcome.userId,
        ip: meta.ip,
        details: { sessionId: outcome.familyId },
      });
      this.#c.logger.warn(
        { userId: outcome.userId, sessionId: outcome.familyId },
        'refresh token reused; session revoked',
      );
    }
    if (!tokens) throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
    return tokens;
  }

  /** Ends the session named by the access token and/or the one a refresh token belongs to. */
  async logout(
    input: { sessionId?: string | null; refreshToken?: string; actorId?: string | null },
    meta: RequestMeta,
  ) {
    const families = new Set<string>();
    if (input.sessionId) families.add(input.sessionId);
    const fromToken = input.refreshToken ? this.#c.sessions.familyOf(input.refreshToken) : null;
    if (fromToken) families.add(fromToken.familyId);
    for (const family of families) await this.#c.sessions.revokeFamily(family);
    if (families.size > 0) {
      await this.#c.audit({
        action: 'session.logout',
        actorId: input.actorId ?? fromToken?.userId ?? null,
        target: null,
        ip: meta.ip,
      });
    }
  }

  /** Staff resend a verification link to an address that is not verified yet. */
  async resendVerification(userId: string, actorId: string | null, meta: RequestMeta): Promise<void> {
    const user = this.#c.store.db.users[userId];
    if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such user');
    if (user.emailVerified) throw new TurnpikeError('TP_ERR_CONFLICT', 'The email is already verified');
    this.#c.background.run('verification-mail', () => this.#sendVerification(user));
    await this.#c.audit({ action: 'email.verification_resent', actorId, target: userId, ip: meta.ip });
  }

  /** "Sign out everywhere": ends every session of the user, this one included. */
  async logoutEverywhere(userId: string, meta: RequestMeta): Promise<void> {
    await this.#c.sessions.revokeUser(userId);
    await this.#c.audit({ action: 'session.logout_everywhere', actorId: userId, target: userId, ip: meta.ip });
  }

  /** Verifies an access token and applies the live account: a role change or disabling takes effect at once. */
  async authenticateAccess(token: string): Promise<AccessGrant> {
    const claims = await this.#c.sessions.verifyAccess(token);
    const user = this.#c.store.db.users[claims.userId];
    if (!user || user.disabled || this.#c.sessions.isRevoked(claims.sessionId)) {
      throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
    }
    const mfaSatisfied = owesSecuritySetup(user) ? false : claims.secondFactor || !hasMfa(user);
    return { userId: user.id, email: user.email, role: user.role, mfaSatisfied, sessionId: claims.sessionId };
  }

  /**
   * Always resolves the same way: whether the email exists is never told. The mail goes out in the
   * background, at most `auth.accountMailsPerHour` to one account; its link voids the older ones.
   */
  requestPasswordReset(email: string, meta: RequestMeta): void {
    const wanted = normaliseEmail(email);
    this.#c.background.run('password-reset-mail', async () => {
      const user = findUserByEmail(this.#c.store, wanted);
      if (!user || user.disabled) return;
      if (!(await this.#takeAccountMail(user.id))) {
        this.#c.logger.info({ userId: user.id }, 'password reset mail not sent: hourly limit for this account reached');
        await this.#c.audit({ action: 'password.reset_limited', actorId: null, target: user.id, ip: meta.ip });
        return;
      }
      const token = await this.#c.oneTime.issue(user.id, 'password-reset', RESET_TTL_SECONDS);
      await this.#c.mail.send({
        to: user.email,
        subject: 'Reset your Turnpike password',
        text:
          `Someone asked to reset the password of ${user.email}.\n\n` +
          `To choose a new password, open this link within 30 minutes:\n${this.#c.links.passwordReset(token)}\n\n` +
          `If it was not you, ignore this message; your password stays as it is.\n`,
      });
      await this.#c.audit({ action: 'password.reset_requested', actorId: null, target: user.id, ip: meta.ip });
    });
  }

  /** Whether an emailed link's token would still work (the page behind the link says so before any typing). */
  isLinkUsable(token: string, purpose: 'password-reset' | 'email-verification'): boolean {
    return this.#c.oneTime.peek(token, purpose) !== null;
  }

  async confirmPasswordReset(input: { token: string; password: string }, meta: RequestMeta): Promise<void> {
    const userId = this.#c.oneTime.peek(input.token, 'password-reset');
    const user = userId ? this.#c.store.db.users[userId] : undefined;
    if (!user) throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
    assertAcceptablePassword(input.password, { email: user.email });
    const passwordHash = await this.#c.hasher.hash(input.password, bcryptCostFor(user.role, this.#c.config.auth));
    await this.#c.store.update((db, histories) => {
      const target = db.users[user.id];
      if (!target || this.#c.oneTime.peek(input.token, 'password-reset') !== user.id) {
        throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
      }
      // Every other reset link dies with the one used, as do sessions (below).
      this.#c.oneTime.voidAllIn(db, user.id, 'password-reset');
      target.passwordHash = passwordHash;
      target.mustChangePassword = false;
      target.updatedAt = this.#c.clock.now();
      this.#ownChangeIn(db, histories, 'password.reset', user.id, meta);
    });
    await this.#c.sessions.revokeUser(user.id);
  }

  async verifyEmail(token: string, meta: RequestMeta): Promise<void> {
    await this.#c.store.update((db, histories) => {
      const id = this.#c.oneTime.peek(token, 'email-verification');
      const user = id ? db.users[id] : undefined;
      if (!user) throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
      this.#c.oneTime.consumeIn(db, token, 'email-verification');
      user.emailVerified = true;
      user.updatedAt = this.#c.clock.now();
      this.#ownChangeIn(db, histories, 'email.verified', user.id, meta);
    });
  }

  /** Changes the password and ends every other session of the user. */
  async changePassword(
    input: { userId: string; sessionId: string | null; currentPassword: string; newPassword: string },
    meta: RequestMeta,
  ): Promise<void> {
    const user = this.#c.store.db.users[input.userId];
    if (!user) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED');
    const address = meta.ip ?? 'unknown';
    this.#refuseWhileLockedOut(user.email, address);
    if (!(await this.#c.hasher.verify(input.currentPassword, user.passwordHash))) {
      await this.#recordFailure(user.email, address, meta);
      throw new TurnpikeError('TP_ERR_INVALID_CREDENTIALS', 'The current password is wrong');
    }
    if (input.currentPassword === input.newPassword) {
      throw new TurnpikeError('TP_ERR_WEAK_PASSWORD', 'Choose a password different from the current one');
    }
    assertAcceptablePassword(input.newPassword, { email: user.email });
    const passwordHash = await this.#c.hasher.hash(input.newPassword, bcryptCostFor(user.role, this.#c.config.auth));
    await this.#c.store.update((db, histories) => {
      const target = db.users[user.id];
      if (!target) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED');
      // A reset link mailed before the change must not undo it.
      this.#c.oneTime.voidAllIn(db, user.id, 'password-reset');
      target.passwordHash = passwordHash;
      target.mustChangePassword = false;
      target.updatedAt = this.#c.clock.now();
      this.#ownChangeIn(db, histories, 'password.changed', user.id, meta);
    });
    await this.#c.sessions.revokeUser(user.id, input.sessionId);
  }

  async updateProfile(userId: string, input: { displayName: string }): Promise<PublicUser> {
    const displayName = cleanDisplayName(input.displayName);
    return this.#c.store.update((db) => {
      const user = db.users[userId];
      if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND');
      user.displayName = displayName;
      user.updatedAt = this.#c.clock.now();
      return publicUser(user);
    });
  }

  /** Starts (or restarts, while unconfirmed) TOTP enrolment; refused once MFA is on. */
  async beginMfaEnrolment(userId: string): Promise<{ secret: string; otpauthUrl: string }> {
    const secret = newTotpSecret();
    const email = await this.#c.store.update((db) => {
      const user = db.users[userId];
      if (!user) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED');
      if (hasMfa(user)) throw new TurnpikeError('TP_ERR_CONFLICT', 'MFA is already enabled');
      user.mfa = { secret, enabledAt: null, recoveryCodeHashes: [], lastCounter: 0 };
      user.updatedAt = this.#c.clock.now();
      return user.email;
    });
    return { secret, otpauthUrl: otpauthUrl(secret, email) };
  }

  /**
   * Proves possession with a first code, turns MFA on, returns the recovery
   * codes (shown once) and a fresh session that has passed the second factor.
   */
  async confirmMfaEnrolment(
    input: { userId: string; sessionId: string | null; code: string },
    meta: RequestMeta,
  ): Promise<{ recoveryCodes: string[]; user: PublicUser; tokens: TokenPair }> {
    const recoveryCodes = newRecoveryCodes();
    const now = this.#c.clock.now();
    const user = await this.#c.store.update((db, histories) => {
      const target = db.users[input.userId];
      const mfa = target?.mfa;
      if (!target || !mfa || mfa.enabledAt !== null) {
        throw new TurnpikeError('TP_ERR_CONFLICT', 'Start MFA enrolment first');
      }
      const counter = acceptedTotpCounter(mfa, input.code, now);
      if (counter === null) throw new TurnpikeError('TP_ERR_MFA_INVALID');
      mfa.lastCounter = counter;
      mfa.enabledAt = now;
      mfa.recoveryCodeHashes = recoveryCodes.map(recoveryCodeHash);
      target.updatedAt = now;
      this.#ownChangeIn(db, histories, 'mfa.enabled', target.id, meta);
      return { ...target };
    });
    if (input.sessionId) await this.#c.sessions.revokeFamily(input.sessionId);
    return { recoveryCodes, user: publicUser(user), tokens: await this.#c.sessions.issue(user, true) };
  }

  /** Guests may turn MFA off again, proving both factors; for staff it is mandatory. */
  async disableMfa(input: { userId: string; password: string; code: string }, meta: RequestMeta): Promise<PublicUser> {
    const user = this.#c.store.db.users[input.userId];
    if (!user) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED');
    if (isStaff(user.role)) throw new TurnpikeError('TP_ERR_FORBIDDEN', 'Staff accounts must keep MFA on');
    if (!hasMfa(user)) throw new TurnpikeError('TP_ERR_CONFLICT', 'MFA is not enabled');
    const address = meta.ip ?? 'unknown';
    this.#refuseWhileLockedOut(user.email, address);
    if (!(await this.#c.hasher.verify(input.password, user.passwordHash))) {
      await this.#recordFailure(user.email, address, meta);
      throw new TurnpikeError('TP_ERR_INVALID_CREDENTIALS', 'The password is wrong');
    }
    const now = this.#c.clock.now();
    const updated = await this.#c.store.update((db, histories) => {
      const target = db.users[user.id];
      if (!target?.mfa || acceptedTotpCounter(target.mfa, input.code, now) === null) {
        throw new TurnpikeError('TP_ERR_MFA_INVALID');
      }
      target.mfa = null;
      target.updatedAt = now;
      this.#ownChangeIn(db, histories, 'mfa.disabled', user.id, meta);
      return publicUser(target);
    });
    return updated;
  }

  /** A user's change to their own account, audited in the mutation that makes it: both are kept, or neither. */
  #ownChangeIn(db: Readonly<Db>, histories: HistoryWriter, action: string, userId: string, meta: RequestMeta): void {
    auditIn(histories, this.#c.clock.now(), userActor(db, userId, meta.ip), { action, target: userId });
  }

  #refuseWhileLockedOut(email: string, address: string): void {
    const retryAfterSeconds = this.#c.throttle.retryAfterSeconds(email, address);
    if (retryAfterSeconds > 0) {
      this.#c.metrics.loginOutcomes.inc({ outcome: 'locked_out' });
      throw new TurnpikeError('TP_ERR_LOCKED_OUT', undefined, { retryAfterSeconds });
    }
  }

  /** Counts a failure for the back-off; the failure that reaches the account's alert level is reported once. */
  async #recordFailure(email: string, address: string, meta: RequestMeta): Promise<void> {
    const { alert, accountFailures } = await this.#c.throttle.recordFailure(email, address);
    if (!alert) return;
    this.#c.metrics.loginAlerts.inc();
    this.#c.logger.warn({ account: email, failures: accountFailures }, 'many failed sign-ins on one account');
    await this.#c.audit({
      action: 'login.alert',
      actorId: null,
      target: email,
      ip: meta.ip,
      details: { failures: accountFailures },
    });
  }

  /** One of the unsolicited mails a stranger may have sent to this account this hour; false when none is left. */
  #takeAccountMail(userId: string): Promise<boolean> {
    const now = this.#c.clock.now();
    const limit = this.#c.config.auth.accountMailsPerHour;
    return this.#c.store.update((db) =>
      takeFromWindow(attemptsOf(db, now, HOUR_MS), `account-mail:${userId}`, now, limit, HOUR_MS),
    );
  }

  async #sendRegistrationNotice(user: User): Promise<void> {
    await this.#c.mail.send({
      to: user.email,
      subject: 'Someone tried to register with your address',
      text:
        `Someone tried to create a ${this.#c.store.db.settings.venueName} account with ${user.email}, ` +
        `which already has one. Nothing was changed.\n\n` +
        `If it was you, sign in with your password; if you forgot it, ask for a reset link on the sign-in page.\n` +
        `If it was not you, ignore this message.\n`,
    });
  }

  async #sendVerification(user: User): Promise<void> {
    const token = await this.#c.oneTime.issue(user.id, 'email-verification', VERIFY_TTL_SECONDS);
    await this.#c.mail.send({
      to: user.email,
      subject: 'Confirm your email address',
      text:
        `Welcome to ${this.#c.store.db.settings.venueName}.\n\n` +
        `Confirm your email address by opening this link within 24 hours:\n${this.#c.links.verifyEmail(token)}\n`,
    });
  }
}
