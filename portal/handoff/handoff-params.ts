import { isIP } from 'node:net';
import type { Db, NasClient } from '../../appliance/domain/model.js';
import { normalizeMac } from '../../appliance/entitlements/entitlement.js';
import { TurnpikeError } from '../../shared/errors.js';
import { findNasClientForAddress } from '../../appliance/nas/nas-clients.js';

/** What a CoovaChilli (WISPr UAM) gateway sends with the redirect to the portal. */
export interface CoovaHandoff {
  kind: 'coovachilli';
  nasId: string;
  uamip: string;
  uamport: number;
  /** Hex, 16 bytes. */
  challenge: string;
  mac: string | null;
  ip: string | null;
  called: string | null;
  nasid: string | null;
  sessionid: string | null;
  userurl: string | null;
}

/** What a MikroTik hotspot sends (its login.html redirects with these). */
export interface MikrotikHandoff {
  kind: 'mikrotik';
  nasId: string;
  loginUrl: string;
  orig: string | null;
  /** Hex of the decoded bytes; null = PAP hotspot. */
  chapId: string | null;
  chapChallenge: string | null;
  mac: string | null;
  ip: string | null;
}

export type Handoff = CoovaHandoff | MikrotikHandoff;

type Query = Readonly<Record<string, unknown>>;

function text(query: Query, name: string, max = 512): string | null {
  const value = query[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string' || first === '') return null;
  if (first.length > max) throw new TurnpikeError('TP_ERR_VALIDATION', `${name}: too long`, { field: name });
  return first;
}

/**
 * A URL the guest may be sent on to after logging in: plain http(s) only, no
 * credentials in it. Anything else (javascript:, data:, relative) is dropped,
 * never followed — the portal is not an open redirect for other schemes.
 */
export function followableUrl(raw: string | null): string | null {
  if (raw === null || raw.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || !url.hostname)
    return null;
  return url.href;
}

function macOf(query: Query): string | null {
  const raw = text(query, 'mac', 64);
  if (raw === null) return null;
  const mac = normalizeMac(raw);
  if (!mac) throw new TurnpikeError('TP_ERR_VALIDATION', 'mac: not a MAC address', { field: 'mac' });
  return mac;
}

function ipOf(query: Query): string | null {
  const raw = text(query, 'ip', 64);
  if (raw === null) return null;
  if (!isIP(raw)) throw new TurnpikeError('TP_ERR_VALIDATION', 'ip: not an IP address', { field: 'ip' });
  return raw;
}

function knownNas(db: Readonly<Db>, host: string, field: string): NasClient {
  const bare = host.replace(/^\[|\]$/g, '');
  const nas = isIP(bare) ? findNasClientForAddress(db, bare) : null;
  if (!nas) {
    throw new TurnpikeError('TP_ERR_NAS_UNKNOWN', `${field}: ${host} is not a configured NAS address`, { field });
  }
  return nas;
}

/** MikroTik renders CHAP values as octal escapes (`\\251\\017…`); plain hex is accepted too. */
export function decodeMikrotikBytes(raw: string): Buffer | null {
  if (/^([0-9a-fA-F]{2})+$/.test(raw)) return Buffer.from(raw, 'hex');
  const bytes: number[] = [];
  for (let i = 0; i < raw.length;) {
    if (raw[i] === '\\' && /^[0-7]{3}$/.test(raw.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 4), 8));
      i += 4;
    } else {
      const code = raw.charCodeAt(i);
      if (code > 0xff) return null;
      bytes.push(code);
      i += 1;
    }
  }
  return Buffer.from(bytes);
}

function parseCoova(db: Readonly<Db>, query: Query, uamip: string): CoovaHandoff {
  const nas = knownNas(db, uamip, 'uamip');
  const portText = text(query, 'uamport', 5) ?? '3990';
  const uamport = Number(portText);
  if (!/^\d+$/.test(portText) || uamport < 1 || uamport > 65535) {
    throw new TurnpikeError('TP_ERR_VALIDATION', 'uamport: a port number', { field: 'uamport' });
  }
  const challenge = text(query, 'challenge', 64);
  if (!challenge || !/^([0-9a-fA-F]{2}){16}$/.test(challenge)) {
    throw new TurnpikeError('TP_ERR_VALIDATION', 'challenge: 32 hex digits', { field: 'challenge' });
  }
  return {
    kind: 'coovachilli',
    nasId: nas.id,
    uamip: uamip.replace(/^\[|\]$/g, ''),
    uamport,
    challenge: challenge.toLowerCase(),
    mac: macOf(query),
    ip: ipOf(query),
    called: text(query, 'called', 64),
    nasid: text(query, 'nasid', 128),
    sessionid: text(query, 'sessionid', 128),
    userurl: followableUrl(text(query, 'userurl', 2048)),
  };
}

function parseMikrotik(db: Readonly<Db>, query: Query, loginOnly: string): MikrotikHandoff {
  let url: URL;
  try {
    url = new URL(loginOnly);
  } catch {
    throw new TurnpikeError('TP_ERR_VALIDATION', 'link-login-only: not a URL', { field: 'link-login-only' });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new TurnpikeError('TP_ERR_VALIDATION', 'link-login-only: an http(s) URL', { field: 'link-login-only' });
  }
  const nas = knownNas(db, url.hostname, 'link-login-only');
  url.search = '';
  url.hash = '';
  const chapIdRaw = text(query, 'chap-id', 64);
  const chapChallengeRaw = text(query, 'chap-challenge', 256);
  let chapId: string | null = null;
  let chapChallenge: string | null = null;
  if (chapIdRaw !== null || chapChallengeRaw !== null) {
    const id = chapIdRaw === null ? null : decodeMikrotikBytes(chapIdRaw);
    const challenge = chapChallengeRaw === null ? null : decodeMikrotikBytes(chapChallengeRaw);
    if (!id || id.length !== 1 || !challenge || challenge.length < 1 || challenge.length > 64) {
      throw new TurnpikeError('TP_ERR_VALIDATION', 'chap-id / chap-challenge: malformed', { field: 'chap-challenge' });
    }
    chapId = id.toString('hex');
    chapChallenge = challenge.toString('hex');
  }
  return {
    kind: 'mikrotik',
    nasId: nas.id,
    loginUrl: url.href,
    orig: followableUrl(text(query, 'link-orig', 2048)),
    chapId,
    chapChallenge,
    mac: macOf(query),
    ip: ipOf(query),
  };
}

/**
 * Reads the NAS parameters a guest arrived with. Returns null when there are
 * none (gateway mode, or a guest who typed the portal address). A hand-off
 * target that is not a configured NAS is refused: the portal never sends a
 * guest's credentials anywhere else.
 */
export function parseHandoff(db: Readonly<Db>, query: Query): Handoff | null {
  const uamip = text(query, 'uamip', 64);
  if (uamip !== null) return parseCoova(db, query, uamip);
  const loginOnly = text(query, 'link-login-only', 2048);
  if (loginOnly !== null) return parseMikrotik(db, query, loginOnly);
  return null;
}
