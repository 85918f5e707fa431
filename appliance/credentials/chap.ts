import { createHash } from 'node:crypto';

/**
 * RFC 1994 CHAP-MD5: MD5(identifier || secret || challenge). The one definition of CHAP: the portal
 * answers a NAS's UAM challenge with it, test NASes build CHAP-Password with it, and RADIUS's
 * constant-time verifier (`verifyChap`, on its allocation-free MD5) is tested against it.
 */
export function chapDigest(identifier: number, secret: string | Buffer, challenge: Buffer): Buffer {
  return createHash('md5')
    .update(Buffer.from([identifier & 0xff]))
    .update(secret)
    .update(challenge)
    .digest();
}
