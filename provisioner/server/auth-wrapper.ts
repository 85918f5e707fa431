import { jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import { TurnpikeError } from '../../appliance/errors.js';
import type { Wrapper } from './unary.js';

export const JWT_AUDIENCE = 'provisioner';
export const JWT_ISSUER = 'turnpike-appliance';
/** The longest lifetime a call token may declare. */
export const JWT_MAX_LIFETIME_SECONDS = 60;

/**
 * Every call carries `authorization: Bearer <JWT>` signed by the appliance
 * (EdDSA), audience `provisioner`, lifetime ≤ 60 s. This sits on top of mTLS: a
 * stolen client certificate alone, or a token alone, is not enough.
 */
export function authWrapper(options: { publicKey: CryptoKey | KeyObject; now?: () => number }): Wrapper {
  return (next) => async (req, ctx) => {
    const [header] = ctx.metadata.get('authorization');
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED', 'a call token is required');
    try {
      const currentDate = options.now ? new Date(options.now()) : new Date();
      const { payload } = await jwtVerify(token, options.publicKey, {
        audience: JWT_AUDIENCE,
        issuer: JWT_ISSUER,
        algorithms: ['EdDSA'],
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: JWT_MAX_LIFETIME_SECONDS,
        clockTolerance: 5,
        currentDate,
      });
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > JWT_MAX_LIFETIME_SECONDS) {
        throw new Error('token lifetime exceeds the limit');
      }
    } catch {
      throw new TurnpikeError('TP_ERR_TOKEN_INVALID', 'the call token is invalid or has expired');
    }
    return next(req, ctx);
  };
}
