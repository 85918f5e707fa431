import { readFileSync } from 'node:fs';
import { normalizeMac } from '../entitlements/entitlement.js';

/**
 * In gateway mode no NAS tells us a guest's MAC, but the box is the guest's
 * router: the kernel's ARP table knows it. Reading it keeps the free tier and
 * the device limit tied to the device rather than to a cookie the guest can
 * clear. IPv4 only; an unknown address gives null.
 */
export function neighboursOf(table: string): Map<string, string> {
  const macs = new Map<string, string>();
  for (const line of table.split('\n').slice(1)) {
    const [address, , flags, mac] = line.trim().split(/\s+/);
    if (!address || flags === '0x0' || !mac || mac === '00:00:00:00:00:00') continue;
    const normal = normalizeMac(mac);
    if (normal) macs.set(address, normal);
  }
  return macs;
}

export function macFromArpTable(ip: string, table: string): string | null {
  return neighboursOf(table).get(ip) ?? null;
}

export interface ArpLookupOptions {
  /** How long a read of the table answers for addresses it holds. */
  maxAgeMs?: number;
  /** An address the last read did not hold is read for again once that read is this old: a guest who just joined. */
  missRereadMs?: number;
  /** Monotonic milliseconds (tests pass their own). */
  now?: () => number;
}

/**
 * Every guest page asks for the MAC behind its address. With a crowd the table holds thousands of
 * neighbours, and reading and parsing all of it per page made each page cost the whole crowd; one
 * read now answers for `maxAgeMs`, and an address it lacks soon causes a fresh read.
 */
export function createArpLookup(
  path = '/proc/net/arp',
  { maxAgeMs = 250, missRereadMs = 20, now = () => performance.now() }: ArpLookupOptions = {},
): (ip: string) => string | null {
  let neighbours: Map<string, string> | null = null;
  let readAt = 0;
  const read = (): Map<string, string> => {
    readAt = now();
    try {
      neighbours = neighboursOf(readFileSync(path, 'utf8'));
    } catch {
      neighbours = new Map();
    }
    return neighbours;
  };
  return (ip) => {
    const address = ip.replace(/^::ffff:/, '');
    const age = now() - readAt;
    let table = neighbours === null || age > maxAgeMs ? read() : neighbours;
    if (!table.has(address) && now() - readAt > missRereadMs) table = read();
    return table.get(address) ?? null;
  };
}
