import { isIPv6 } from 'node:net';

/**
 * IPv6 attribute values (RFC 3162, RFC 4818, RFC 6911): Framed-IPv6-Address is 16 octets;
 * Framed-IPv6-Prefix and Delegated-IPv6-Prefix are a reserved octet, the prefix length, and only
 * as many prefix octets as the length needs. Text is the canonical form (`2001:db8::1`, `2001:db8::/56`).
 */

function textOf(octets: Buffer): string {
  const groups: string[] = [];
  for (let offset = 0; offset < 16; offset += 2) groups.push(octets.readUInt16BE(offset).toString(16));
  // The URL parser prints an IPv6 address in its canonical, compressed form.
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

function octetsOf(address: string): Buffer | null {
  if (!isIPv6(address)) return null;
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((group, index) => out.writeUInt16BE(Number.parseInt(group, 16), index * 2));
  return out;
}

export function decodeIpv6Address(value: Buffer | undefined): string | null {
  return value && value.length === 16 ? textOf(value) : null;
}

export function decodeIpv6Prefix(value: Buffer | undefined): string | null {
  if (!value || value.length < 2 || value.length > 18) return null;
  const length = value[1]!;
  if (length > 128 || value.length - 2 < Math.ceil(length / 8)) return null;
  const octets = Buffer.alloc(16);
  value.copy(octets, 0, 2);
  return `${textOf(octets)}/${length}`;
}

export function encodeIpv6Address(address: string): Buffer | null {
  return octetsOf(address);
}

export function encodeIpv6Prefix(prefix: string): Buffer | null {
  const [address = '', lengthText = ''] = prefix.split('/');
  const length = Number(lengthText);
  const octets = octetsOf(address);
  if (!octets || !Number.isInteger(length) || length < 0 || length > 128) return null;
  return Buffer.concat([Buffer.from([0, length]), octets.subarray(0, Math.ceil(length / 8))]);
}
