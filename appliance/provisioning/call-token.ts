import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyObject } from 'node:crypto';

export const CALL_TOKEN_AUDIENCE = 'provisioner';
export const CALL_TOKEN_ISSUER = 'turnpike-appliance';

/** A per-call token for the provisioner: EdDSA, audience `provisioner`, short-lived. */
export async function signCallToken(
  key: KeyObject,
  options: { now: number; lifetimeSeconds?: number; audience?: string } = { now: Date.now() },
): Promise<string> {
  const iat = Math.floor(options.now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuer(CALL_TOKEN_ISSUER)
    .setAudience(options.audience ?? CALL_TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.lifetimeSeconds ?? 30))
    .setJti(randomUUID())
    .sign(key);
}
