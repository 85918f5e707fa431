import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../../shared/clock.js';
import type { SigningKey } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';

type KeyObject = Awaited<ReturnType<typeof importJWK>>;

const AUDIENCE = 'turnpike';

/**
 * Ed25519 keys that sign Turnpike's JWTs. One key is active; `rotate()` retires
 * it and makes a new one. A retired key never signs but still verifies until
 * every token it signed has expired, then it is dropped.
 */
export class SigningKeys {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #issuer: string;
  readonly #maxTokenTtlSeconds: number;
  readonly #cache = new Map<string, KeyObject>();

  constructor(options: { store: Store; clock: Clock; issuer: string; maxTokenTtlSeconds: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#issuer = options.issuer;
    this.#maxTokenTtlSeconds = options.maxTokenTtlSeconds;
  }

  get activeKid(): string | null {
    return this.#active()?.kid ?? null;
  }

  /** Creates the first key when the store has none. */
  async ensureActive(): Promise<void> {
    if (!this.#active()) await this.rotate();
  }

  /** Retires the active key, adds a new one and drops keys whose tokens have all expired. */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = randomUUID();
    const record: SigningKey = {
      kid,
      alg: 'EdDSA',
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' },
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' },
      createdAt: this.#clock.now(),
      retiredAt: null,
    };
    const now = this.#clock.now();
    const horizon = now - this.#maxTokenTtlSeconds * 1000;
    await this.#store.update((db) => {
      db.signingKeys = db.signingKeys.filter((key) => key.retiredAt === null || key.retiredAt > horizon);
      for (const key of db.signingKeys) key.retiredAt ??= now;
      db.signingKeys.push(record);
    });
    return kid;
  }

  async sign(claims: JWTPayload, ttlSeconds: number): Promise<string> {
    const active = this.#active();
    if (!active) throw new TurnpikeError('TP_ERR_INTERNAL', 'no signing key; call ensureActive() at start');
    const now = Math.floor(this.#clock.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: active.kid, typ: 'JWT' })
      .setIssuer(this.#issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID())
      .sign(await this.#key(active, 'private'));
  }

  /** Verifies signature, algorithm, issuer, audience and expiry; any failure is TP_ERR_TOKEN_INVALID. */
  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = this.#store.db.signingKeys.find((candidate) => candidate.kid === header.kid);
          if (!key) throw new Error('unknown kid');
          return this.#key(key, 'public');
        },
        {
          algorithms: ['EdDSA'],
          issuer: this.#issuer,
          audience: AUDIENCE,
          currentDate: new Date(this.#clock.now()),
          requiredClaims: ['exp', 'iat', 'sub'],
        },
      );
      return payload;
    } catch {
      throw new TurnpikeError('TP_ERR_TOKEN_INVALID');
    }
  }

  #active(): SigningKey | undefined {
    return this.#store.db.signingKeys.find((key) => key.retiredAt === null);
  }

  async #key(record: SigningKey, which: 'public' | 'private'): Promise<KeyObject> {
    const id = `${which}:${record.kid}`;
    let key = this.#cache.get(id);
    if (!key) {
      key = await importJWK((which === 'public' ? record.publicJwk : record.privateJwk) as JWK, 'EdDSA');
      this.#cache.set(id, key);
    }
    return key;
  }
}
