import { isTurnpikeError, TurnpikeError } from '../../../shared/errors.js';

/** SQLSTATE classes and codes that mean "the database is not there right now", not "the request is wrong". */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/** True when `err` says the database could not be reached or dropped the connection. */
export function isUnreachable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNOS.has(code))
  )
    return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down)/i.test(
    message,
  );
}

/**
 * The error a caller of the store sees: TP_ERR_STORE_UNAVAILABLE when the database is out of
 * reach (HTTP 503 with Retry-After, no RADIUS answer), the error itself otherwise. A write that
 * fails this way was not acknowledged; it may or may not have committed, and the change feed
 * brings it into memory if it did.
 */
export function storeErrorOf(err: unknown, doing: string): unknown {
  if (isTurnpikeError(err) || !isUnreachable(err)) return err;
  return new TurnpikeError(
    'TP_ERR_STORE_UNAVAILABLE',
    `the database cannot be reached (${doing}): ${(err as Error).message}`,
  );
}
