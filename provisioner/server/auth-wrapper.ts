import { jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import { TurnpikeError } from '../../shared/errors.js';
import type { Wrapper } from './unary.js';
import { VerifiedTokens } from './verified-tokens.js';

export const JWT_AUDIENCE = 'provisioner';
export const JWT_ISSUER = 'turnpike-appliance';
/** The longest lifetime a call token may declare. */
export const JWT_MAX_LIFETIME_SECONDS = 60;
const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * Every call carries `authorization: Bearer <JWT>` signed by the appliance
 * (EdDSA), audience `provisioner`, lifetime ≤ 60 s. This sits on top of mTLS: a
 * stolen client certificate alone, or a token alone, is not enough.
 */
export function authWrapper(options: { publicKey: CryptoKey | KeyObject; now?: () => number }): Wrapper {
  const verified = new VerifiedTokens();
  const verify = async (token: string, now: number): Promise<void> => {
    try {
      const currentDate = new Date(now);
      const { payload } = await jwtVerify(token, options.publicKey, {
        audience: JWT_AUDIENCE,
        issuer: JWT_ISSUER,
        algorithms: ['EdDSA'],
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: JWT_MAX_LIFETIME_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate,
      });
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > JWT_MAX_LIFETIME_SECONDS) {
        throw new Error('token lifetime exceeds the limit');
      }
      // Accepted while jwtVerify would accept it: before exp and within the maximum age, with the tolerance.
      const until = Math.min(payload.exp ?? 0, (payload.iat ?? 0) + JWT_MAX_LIFETIME_SECONDS) + CLOCK_TOLERANCE_SECONDS;
      verified.remember(token, until * 1000, now);
    } catch {
      throw new TurnpikeError('TP_ERR_TOKEN_INVALID', 'the call token is invalid or has expired');
    }
  };
  // Not an async function: a token seen before goes straight on, without a promise of its own.
  return (next) => (req, ctx) => {
    const [header] = ctx.metadata.get('authorization');
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token) return Promise.reject(new TurnpikeError('TP_ERR_UNAUTHENTICATED', 'a call token is required'));
    const now = options.now ? options.now() : Date.now();
    if (verified.accepts(token, now)) return next(req, ctx);
    return verify(token, now).then(() => next(req, ctx));
  };
}
