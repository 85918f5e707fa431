import { isIP } from 'node:net';
import type { Db } from '../../appliance/domain/model.js';
import { findNasClientForAddress } from '../../appliance/nas/nas-clients.js';
import { followableUrl } from './handoff-params.js';

/** What the NAS says happened when it sends the browser back to the portal. */
export type NasOutcome = 'connected' | 'failed' | 'logged-off' | 'timed-out' | 'login';

/**
 * CoovaChilli's `res` values, as rows (its UAM redirect after each step). `notyet` and `popup1`
 * are the usual hand-off (log in now); `popup2` and `popup3` are the popup window's
 * success and logoff pages.
 */
const COOVA_RES: Readonly<Record<string, NasOutcome>> = {
  notyet: 'login',
  popup1: 'login',
  success: 'connected',
  already: 'connected',
  popup2: 'connected',
  failed: 'failed',
  reject: 'failed',
  logoff: 'logged-off',
  popup3: 'logged-off',
  timeout: 'timed-out',
};

export interface NasReturn {
  outcome: NasOutcome;
  /** Where the guest wanted to go (CoovaChilli `userurl`/`redirurl`, MikroTik `link-orig`). */
  continueUrl: string | null;
  /** A NAS page that starts a fresh login (chilli's `/prelogin`, MikroTik's `link-login`); only on a known NAS. */
  loginAgainUrl: string | null;
}

type Query = Readonly<Record<string, unknown>>;

function first(query: Query, name: string): string | null {
  const value = query[name];
  const raw = Array.isArray(value) ? value[0] : value;
  return typeof raw === 'string' && raw !== '' && raw.length <= 2048 ? raw : null;
}

const bare = (host: string): string => host.replace(/^\[|\]$/g, '');
const isKnownNas = (db: Readonly<Db>, host: string): boolean =>
  isIP(bare(host)) !== 0 && findNasClientForAddress(db, bare(host)) !== null;

/** A NAS link the portal may show: http(s), and on the address of a configured NAS. */
function nasLink(db: Readonly<Db>, raw: string | null): string | null {
  const url = followableUrl(raw);
  return url !== null && isKnownNas(db, new URL(url).hostname) ? url : null;
}

function coovaReturn(db: Readonly<Db>, query: Query, res: string): NasReturn {
  const uamip = first(query, 'uamip');
  const port = Number(first(query, 'uamport') ?? '3990');
  const validPort = Number.isInteger(port) && port > 0 && port < 65536;
  const host = uamip !== null && isIP(bare(uamip)) === 6 ? `[${bare(uamip)}]` : uamip;
  return {
    // An unknown `res` is treated as a plain hand-off: the page asks the guest to log in.
    outcome: COOVA_RES[res] ?? 'login',
    continueUrl: followableUrl(first(query, 'userurl') ?? first(query, 'redirurl')),
    loginAgainUrl: uamip !== null && validPort && isKnownNas(db, uamip) ? `http://${host}:${port}/prelogin` : null,
  };
}

/**
 * MikroTik's pages redirect with their variables: `login.html` with `link-login-only` (and
 * `error` after a failed login), `alogin.html` and `status.html` with `link-status`
 * (`link-logout` too), `logout.html` with `link-login` alone.
 */
function mikrotikReturn(db: Readonly<Db>, query: Query): NasReturn | null {
  const error = first(query, 'error');
  const loginOnly = first(query, 'link-login-only');
  const continueUrl = followableUrl(first(query, 'link-orig'));
  const loginAgainUrl = nasLink(db, first(query, 'link-login') ?? loginOnly);
  if (error !== null) return { outcome: 'failed', continueUrl, loginAgainUrl };
  if (first(query, 'link-status') !== null || first(query, 'link-logout') !== null)
    return { outcome: 'connected', continueUrl, loginAgainUrl };
  if (loginOnly === null && first(query, 'link-login') !== null)
    return { outcome: 'logged-off', continueUrl, loginAgainUrl };
  return null;
}

/**
 * Reads what the NAS reports on its way back to the portal, or null when the query is no such
 * report (a first hand-off, or no NAS at all). Tolerant by design: a report never needs a
 * challenge, and a link the portal cannot vouch for is left out rather than refused.
 */
export function readNasReturn(db: Readonly<Db>, query: Query): NasReturn | null {
  const res = first(query, 'res');
  if (res !== null) return coovaReturn(db, query, res.toLowerCase());
  return mikrotikReturn(db, query);
}
