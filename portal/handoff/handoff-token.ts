import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../appliance/domain/model.js';
import type { Handoff } from './handoff-params.js';

/** How long the NAS context survives sign-up, login and payment detours; a NAS challenge does not live longer. */
export const HANDOFF_TTL_MS = 60 * 60_000;

interface Envelope {
  h: Handoff;
  /** Expiry, ms. */
  x: number;
}

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', `turnpike-handoff:${secret}`).update(payload).digest();
}

/**
 * Seals the NAS context into a tamper-evident token that travels in a hidden
 * form field and a cookie through every redirect of the journey (payment
 * included), so the NAS parameters cannot be swapped on the way.
 */
export function sealHandoff(secret: string, handoff: Handoff, now: number): string {
  const payload = Buffer.from(JSON.stringify({ h: handoff, x: now + HANDOFF_TTL_MS } satisfies Envelope)).toString(
    'base64url',
  );
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** The context inside a token, or null when forged, expired, or its NAS has since been removed. */
export function openHandoff(secret: string, token: unknown, now: number, db: Readonly<Db>): Handoff | null {
  if (typeof token !== 'string' || token.length > 8192) return null;
  const [payload = '', signature = ''] = token.split('.');
  const expected = mac(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let envelope: Envelope;
  try {
    envelope = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Envelope;
  } catch {
    return null;
  }
  if (typeof envelope.x !== 'number' || envelope.x <= now || !envelope.h || !db.nasClients[envelope.h.nasId])
    return null;
  return envelope.h;
}
