import { randomInt } from 'node:crypto';

/**
 * Letters and digits a guest cannot confuse when reading a printed card:
 * no 0/O/D/Q, 1/I/L, 2/Z, 5/S, 8/B, U/V.
 */
export const CODE_ALPHABET = 'ACEFGHJKMNPRTWXY34679';
/** 21^10 ≈ 1.7e13 (44 bits): at the portal's guess limit, finding one of 10,000 live codes takes centuries. */
export const CODE_RANDOM_LENGTH = 10;
const PREFIX_PATTERN = /^[A-Z0-9]{1,8}$/;

export function isValidPrefix(prefix: string): boolean {
  return prefix === '' || PREFIX_PATTERN.test(prefix);
}

/** A fresh code: the batch prefix followed by uniformly random characters. */
export function generateCode(prefix: string): string {
  let out = prefix;
  for (let i = 0; i < CODE_RANDOM_LENGTH; i += 1) out += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]!;
  return out;
}

/** What guests type — any case, spaces or dashes — reduced to the stored form. */
export function normalizeCode(raw: string): string {
  return raw.toUpperCase().replace(/[\s-]/g, '');
}

/** Printed form: prefix, then groups of five, so cards are easy to read aloud. */
export function formatCode(code: string, prefix: string): string {
  const random = code.slice(prefix.length);
  const groups = random.match(/.{1,5}/g) ?? [];
  return [...(prefix ? [prefix] : []), ...groups].join('-');
}
