import { TurnpikeError } from '../../shared/errors.js';
import type { Messages } from '../i18n/messages.js';

/** A form post's body as @fastify/formbody parses it: anything may be missing or not a string. */
export type FormBody = Record<string, unknown>;

/** Accepts any form fields: each handler reads the few it knows with `field`. */
export const formSchema = { body: { type: 'object', additionalProperties: true } } as const;

/** A text field, cut to `max` characters; '' when absent or not text. */
export function field(body: FormBody, name: string, max = 1000): string {
  const value = body[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}

/** Refuses a form whose terms checkbox was not ticked (browsers send its value, or "on" without one). */
export function assertTermsAccepted(body: FormBody, t: Messages): void {
  if (body.terms !== 'yes' && body.terms !== 'on') throw new TurnpikeError('TP_ERR_VALIDATION', t.mustAccept);
}
