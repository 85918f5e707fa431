import { readFileSync } from 'node:fs';
import { normalizeMac } from '../entitlements/entitlement.js';

/**
 * In gateway mode no NAS tells us a guest's MAC, but the box is the guest's
 * router: the kernel's ARP table knows it. Reading it keeps the free tier and
 * the device limit tied to the device rather than to a cookie the guest can
 * clear. IPv4 only; an unknown address gives null.
 */
export function macFromArpTable(ip: string, table: string): string | null {
  for (const line of table.split('\n').slice(1)) {
    const [address, , flags, mac] = line.trim().split(/\s+/);
    if (address === ip && flags !== '0x0' && mac && mac !== '00:00:00:00:00:00') return normalizeMac(mac);
  }
  return null;
}

export function createArpLookup(path = '/proc/net/arp'): (ip: string) => string | null {
  return (ip) => {
    try {
      return macFromArpTable(ip.replace(/^::ffff:/, ''), readFileSync(path, 'utf8'));
    } catch {
      return null;
    }
  };
}
