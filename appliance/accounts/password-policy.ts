import { readFileSync } from 'node:fs';
import { TurnpikeError } from '../../shared/errors.js';

export const MIN_PASSWORD_LENGTH = 10;
/** bcrypt reads only the first 72 bytes; a longer password would silently lose its tail. */
export const MAX_PASSWORD_BYTES = 72;

let commonPasswords: ReadonlySet<string> | null = null;

function common(): ReadonlySet<string> {
  if (!commonPasswords) {
    const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8');
    commonPasswords = new Set(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')));
  }
  return commonPasswords;
}

export function isCommonPassword(password: string): boolean {
  return common().has(password.toLowerCase());
}

/** Throws TP_ERR_WEAK_PASSWORD naming the rule the password breaks. */
export function assertAcceptablePassword(password: string, context: { email?: string } = {}): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new TurnpikeError('TP_ERR_WEAK_PASSWORD', `Use at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw new TurnpikeError('TP_ERR_WEAK_PASSWORD', `Use at most ${MAX_PASSWORD_BYTES} bytes`);
  }
  if (isCommonPassword(password)) {
    throw new TurnpikeError('TP_ERR_WEAK_PASSWORD', 'That password is on a list of common passwords; choose another');
  }
  const name = context.email?.toLowerCase().split('@')[0] ?? '';
  if (name.length >= 4 && password.toLowerCase().includes(name)) {
    throw new TurnpikeError('TP_ERR_WEAK_PASSWORD', 'The password must not contain your email name');
  }
}
