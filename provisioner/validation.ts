import { isIP } from 'node:net';
import { TurnpikeError } from '../shared/errors.js';
import { parseAuthorizedKey } from '../proto/authorized-key.js';
import type { AccountService } from './drivers/driver.js';

/**
 * Every value that reaches a driver passes through one of these. Each returns
 * the canonical form or throws TP_ERR_VALIDATION naming the field; nothing here
 * touches the host. The patterns are allow-lists, so shell and nft
 * metacharacters never get through even though drivers never use a shell.
 */

export const LOGIN_PATTERN = /^tp-[a-z0-9][a-z0-9_-]{0,27}$/;
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;
const BCRYPT_2B = /^\$2b\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

export const MAX_SECONDS = 31_536_000;
export const MAX_KBPS = 100_000_000;
export const MAX_KEYS = 32;
export const MAX_GARDEN_ENTRIES = 512;

function invalid(field: string, why: string): never {
  throw new TurnpikeError('TP_ERR_VALIDATION', `${field}: ${why}`, { field });
}

export function assertIp(field: string, value: string): string {
  const family = isIP(value);
  // isIP accepts no leading zeros today, so an IPv4 address is already canonical; the split is for a Node that would.
  if (family === 4 && !/(?:^|\.)0\d/.test(value)) return value;
  if (family === 4)
    return value
      .split('.')
      .map((o) => String(Number(o)))
      .join('.');
  if (family === 6 && !value.includes('%')) return new URL(`http://[${value}]`).hostname.slice(1, -1);
  return invalid(field, 'not an IPv4 or IPv6 address');
}

export function assertMac(field: string, value: string): string {
  if (!MAC.test(value)) invalid(field, 'not a MAC address (aa:bb:cc:dd:ee:ff)');
  const mac = value.toLowerCase().replaceAll('-', ':');
  if (mac === '00:00:00:00:00:00' || (parseInt(mac.slice(0, 2), 16) & 1) === 1) invalid(field, 'not a unicast MAC');
  return mac;
}

export function assertSessionId(field: string, value: string): string {
  if (!SESSION_ID.test(value)) invalid(field, 'must be 1-64 of [A-Za-z0-9_-]');
  return value;
}

export function assertIntRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    invalid(field, `must be an integer in ${min}..${max}`);
  return value;
}

export function assertLogin(field: string, value: string): string {
  if (!LOGIN_PATTERN.test(value)) invalid(field, `must match ${LOGIN_PATTERN.source}`);
  return value;
}

export function assertPasswordHash(field: string, value: string): string {
  if (value !== '' && !BCRYPT_2B.test(value)) invalid(field, 'must be a bcrypt $2b$ hash or empty');
  return value;
}

export function assertDomain(field: string, value: string): string {
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(domain)) invalid(field, 'not a host name');
  return domain;
}

/** Canonical network form: host bits cleared, `/prefix` dropped for single addresses. */
export function assertCidr(field: string, value: string): string {
  const [addr = '', prefixText, ...rest] = value.split('/');
  if (rest.length > 0) invalid(field, 'not an address or CIDR');
  const ip = assertIp(field, addr);
  const v4 = isIP(ip) === 4;
  const bits = v4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) invalid(field, 'bad prefix length');
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > bits) invalid(field, `prefix must be 1..${bits}`);
  if (prefix === bits) return ip;
  const value128 = v4 ? ipv4ToBigInt(ip) : ipv6ToBigInt(ip);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  const network = value128 & mask;
  return `${v4 ? bigIntToIpv4(network) : bigIntToIpv6(network)}/${prefix}`;
}

function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function bigIntToIpv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}

function ipv6ToBigInt(ip: string): bigint {
  const [head = '', tail] = ip.split('::');
  const parse = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bigIntToIpv6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return assertIp('cidr', groups.join(':'));
}

/** An OpenSSH public key line `type base64 [comment]`; no options, no DSA, RSA ≥ 2048 bits. */
export function assertAuthorizedKey(field: string, line: string): string {
  const parsed = parseAuthorizedKey(line);
  if (!parsed.ok) invalid(field, parsed.reason);
  return parsed.line;
}

export function assertServices(field: string, values: readonly string[]): AccountService[] {
  const out = new Set<AccountService>();
  for (const v of values) {
    if (v !== 'ssh' && v !== 'ftp') invalid(field, 'services are ssh and ftp');
    out.add(v);
  }
  if (out.size === 0) invalid(field, 'at least one service');
  return [...out].sort();
}

export function assertList<T>(field: string, values: readonly T[], max: number): readonly T[] {
  if (values.length > max) invalid(field, `at most ${max} entries`);
  return values;
}

/** The first and last address a canonical CIDR covers, for overlap checks. */
export function cidrRange(cidr: string): { v4: boolean; first: bigint; last: bigint } {
  const [addr = '', prefixText] = cidr.split('/');
  const v4 = isIP(addr) === 4;
  const bits = v4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  const first = v4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr);
  return { v4, first, last: first + (1n << BigInt(bits - prefix)) - 1n };
}

/** Drops CIDRs that lie inside another one (nft interval sets refuse overlaps). */
export function withoutNested(cidrs: readonly string[]): string[] {
  const ranges = [...new Set(cidrs)].map((c) => ({ c, ...cidrRange(c) }));
  return ranges
    .filter(
      (r) =>
        !ranges.some(
          (o) =>
            o !== r &&
            o.v4 === r.v4 &&
            o.first <= r.first &&
            o.last >= r.last &&
            (o.first !== r.first || o.last !== r.last || o.c < r.c),
        ),
    )
    .map((r) => r.c);
}
