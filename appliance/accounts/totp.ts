import { randomInt } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { MfaState } from '../domain/model.js';
import { sha256Hex } from './secrets.js';

const PERIOD_SECONDS = 30;
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

function totpFor(secret: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: 'Turnpike',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
}

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function otpauthUrl(secret: string, label: string): string {
  return totpFor(secret, label).toString();
}

/** The current code: for tests and the CLI, never for the server's own checks. */
export function totpCode(secret: string, now: number): string {
  return totpFor(secret, 'code').generate({ timestamp: now });
}

/**
 * The time step a valid code belongs to (one step of drift either way), or
 * null. The caller refuses steps at or before the last one accepted, so a
 * code works once.
 */
export function acceptedTotpCounter(
  mfa: Pick<MfaState, 'secret' | 'lastCounter'>,
  code: string,
  now: number,
): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(mfa.secret, 'code').validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  const counter = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
  return counter > mfa.lastCounter ? counter : null;
}

function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function recoveryCodeHash(code: string): string {
  return sha256Hex(`turnpike-recovery:${normaliseRecoveryCode(code)}`);
}

/** Ten codes shaped `xxxxx-xxxxx`, shown once; only their hashes are kept. */
export function newRecoveryCodes(): string[] {
  const codes: string[] = [];
  for (let i = 0; i < RECOVERY_CODES; i += 1) {
    let raw = '';
    for (let j = 0; j < 10; j += 1) raw += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
    codes.push(`${raw.slice(0, 5)}-${raw.slice(5)}`);
  }
  return codes;
}
