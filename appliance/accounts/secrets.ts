import { createHash, randomBytes, randomInt } from 'node:crypto';

/** SHA-256 hex: how opaque tokens and recovery codes are stored (they carry enough entropy not to need bcrypt). */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** 256 random bits, URL-safe: refresh tokens and emailed one-time tokens. */
export function opaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

const READABLE = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A password someone may have to type from a terminal: 20 characters without look-alikes. */
export function oneTimePassword(length = 20): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += READABLE[randomInt(READABLE.length)];
  return out;
}
