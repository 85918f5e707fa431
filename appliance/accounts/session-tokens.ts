import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Db, Role, User } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';
import { opaqueToken, sha256Hex } from './secrets.js';
import type { SigningKeys } from './signing-keys.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number;
}

/** What a verified access token says, before the live account is consulted. */
export interface AccessClaims {
  userId: string;
  role: Role;
  sessionId: string;
  secondFactor: boolean;
}

export type RotateOutcome =
  | { kind: 'rotated'; user: User; familyId: string; secondFactor: boolean }
  | { kind: 'reused'; userId: string; familyId: string }
  | { kind: 'invalid' };

/** How long the password step of a sign-in waits for its second factor. */
export const MFA_TOKEN_TTL_SECONDS = 300;

/**
 * Sessions are refresh-token families. Each refresh token works once and is
 * replaced by the next in its family; presenting a used one means it leaked,
 * so the whole family is revoked. Access tokens name their family (`sid`) and
 * die with it.
 */
export class SessionTokens {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #keys: SigningKeys;
  readonly #accessTtl: number;
  readonly #refreshTtl: number;

  constructor(options: {
    store: Store;
    clock: Clock;
    keys: SigningKeys;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#keys = options.keys;
    this.#accessTtl = options.accessTtlSeconds;
    this.#refreshTtl = options.refreshTtlSeconds;
  }

  /** Starts a new family (or continues `familyId` inside a store mutation) and signs its access token. */
  async issue(user: User, secondFactor: boolean): Promise<TokenPair> {
    const familyId = randomUUID();
    const refreshToken = await this.#store.update((db) => {
      this.#pruneExpired(db);
      return this.#addRefreshToken(db, user.id, familyId, secondFactor);
    });
    return this.#pair(user, familyId, secondFactor, refreshToken);
  }

  /** Exchanges a refresh token for a new pair; a reused token revokes its family. */
  async rotate(refreshToken: string): Promise<{ outcome: RotateOutcome; tokens: TokenPair | null }> {
    const hash = sha256Hex(refreshToken);
    const now = this.#clock.now();
    const result = await this.#store.update((db): { outcome: RotateOutcome; next: string | null } => {
      const record = db.refreshTokens[hash];
      if (!record || record.revokedAt !== null || record.expiresAt <= now) {
        return { outcome: { kind: 'invalid' }, next: null };
      }
      if (record.usedAt !== null) {
        this.#revokeFamilyIn(db, record.familyId, now);
        return { outcome: { kind: 'reused', userId: record.userId, familyId: record.familyId }, next: null };
      }
      const user = db.users[record.userId];
      if (!user || user.disabled) return { outcome: { kind: 'invalid' }, next: null };
      record.usedAt = now;
      const secondFactor = record.secondFactor === true;
      const next = this.#addRefreshToken(db, user.id, record.familyId, secondFactor);
      return { outcome: { kind: 'rotated', user: { ...user }, familyId: record.familyId, secondFactor }, next };
    });
    if (result.outcome.kind !== 'rotated' || result.next === null) return { outcome: result.outcome, tokens: null };
    const { user, familyId, secondFactor } = result.outcome;
    return { outcome: result.outcome, tokens: await this.#pair(user, familyId, secondFactor, result.next) };
  }

  /** The family a refresh token belongs to, without using it. */
  familyOf(refreshToken: string): { familyId: string; userId: string } | null {
    const record = this.#store.db.refreshTokens[sha256Hex(refreshToken)];
    return record ? { familyId: record.familyId, userId: record.userId } : null;
  }

  async revokeFamily(familyId: string): Promise<void> {
    const now = this.#clock.now();
    await this.#store.update((db) => this.#revokeFamilyIn(db, familyId, now));
  }

  /** Ends every session of a user (password change or reset, disabling), except `keepFamilyId`. */
  async revokeUser(userId: string, keepFamilyId: string | null = null): Promise<void> {
    const now = this.#clock.now();
    await this.#store.update((db) => {
      const families = new Set<string>();
      for (const token of Object.values(db.refreshTokens)) {
        if (token.userId === userId && token.familyId !== keepFamilyId) families.add(token.familyId);
      }
      for (const family of families) this.#revokeFamilyIn(db, family, now);
    });
  }

  /**
   * Read from the store, not from this process's memory: a family revoked through another
   * appliance on the same store is refused here as soon as its change arrives.
   */
  isRevoked(familyId: string): boolean {
    return this.#store.db.revokedFamilies[familyId] !== undefined;
  }

  /** Revoked families still remembered (monitoring, tests): each is forgotten once its last token expired. */
  revokedFamilyCount(): number {
    const now = this.#clock.now();
    return Object.values(this.#store.db.revokedFamilies).filter((family) => family.expiresAt > now).length;
  }

  async verifyAccess(token: string): Promise<AccessClaims> {
    const claims = await this.#keys.verify(token);
    const { sub, role, sid, mfa, typ } = claims as Record<string, unknown>;
    if (typ !== 'access' || typeof sub !== 'string' || typeof sid !== 'string' || typeof role !== 'string') {
      throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
    }
    return { userId: sub, role: role as Role, sessionId: sid, secondFactor: mfa === true };
  }

  async #pair(user: User, familyId: string, secondFactor: boolean, refreshToken: string): Promise<TokenPair> {
    const accessToken = await this.#keys.sign(
      { sub: user.id, role: user.role, sid: familyId, mfa: secondFactor, typ: 'access' },
      this.#accessTtl,
    );
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.#accessTtl,
      refreshExpiresIn: this.#refreshTtl,
    };
  }

  #addRefreshToken(db: Db, userId: string, familyId: string, secondFactor: boolean): string {
    const token = opaqueToken();
    const now = this.#clock.now();
    db.refreshTokens[sha256Hex(token)] = {
      hash: sha256Hex(token),
      userId,
      familyId,
      issuedAt: now,
      expiresAt: now + this.#refreshTtl * 1000,
      usedAt: null,
      revokedAt: null,
      secondFactor,
    };
    return token;
  }

  #revokeFamilyIn(db: Db, familyId: string, now: number): void {
    let lastExpiry = now + this.#accessTtl * 1000;
    for (const token of Object.values(db.refreshTokens)) {
      if (token.familyId !== familyId) continue;
      if (token.revokedAt === null) token.revokedAt = now;
      lastExpiry = Math.max(lastExpiry, token.expiresAt);
    }
    const known = db.revokedFamilies[familyId];
    db.revokedFamilies[familyId] = {
      familyId,
      revokedAt: known?.revokedAt ?? now,
      expiresAt: Math.max(lastExpiry, known?.expiresAt ?? 0),
    };
    this.#pruneRevoked(db, now);
  }

  /** Access tokens never outlive their family's refresh tokens, so an expired family needs no revocation mark. */
  #pruneRevoked(db: Db, now: number): void {
    for (const [familyId, family] of Object.entries(db.revokedFamilies)) {
      if (family.expiresAt <= now) delete db.revokedFamilies[familyId];
    }
  }

  /** Expired tokens can neither be used nor be evidence of reuse any more. */
  #pruneExpired(db: Db): void {
    const now = this.#clock.now();
    for (const [hash, token] of Object.entries(db.refreshTokens)) {
      if (token.expiresAt <= now) delete db.refreshTokens[hash];
    }
    this.#pruneRevoked(db, now);
  }
}
