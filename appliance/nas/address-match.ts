import { isIPv4, isIPv6 } from 'node:net';

/** An address or CIDR parsed to bytes, so that v4, v6 and v4-mapped v6 compare the same way. */
export interface AddressRange {
  bytes: Buffer;
  prefix: number;
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map((part) => Number.parseInt(part, 10)));
}

function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = ipv4Bytes(last);
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const [headText = '', tailText] = text.split('::') as [string, string | undefined];
  const head = parse(headText);
  const rest = tailText === undefined ? [] : parse(tailText);
  const groups =
    tailText === undefined ? head : [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  const out = Buffer.alloc(16);
  groups.forEach((group, index) => out.writeUInt16BE(group, index * 2));
  return out;
}

/** 16 bytes for any address; IPv4 becomes ::ffff:a.b.c.d so that a v4 range matches v4-mapped sources. */
export function addressBytes(ip: string): Buffer | null {
  if (isIPv4(ip)) return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), ipv4Bytes(ip)]);
  const bare = ip.split('%')[0] ?? ip;
  if (isIPv6(bare)) return ipv6Bytes(bare);
  return null;
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, `v6` or `v6/n`; null when malformed. */
export function parseAddressRange(source: string): AddressRange | null {
  const [address = '', prefixText] = source.trim().split('/') as [string, string | undefined];
  const bytes = addressBytes(address);
  if (!bytes) return null;
  const v4 = isIPv4(address);
  const max = v4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? max : Number.parseInt(prefixText, 10);
  if (prefix > max) return null;
  return { bytes, prefix: v4 ? prefix + 96 : prefix };
}

export function rangeContains(range: AddressRange, address: Buffer): boolean {
  const full = range.prefix >> 3;
  if (range.bytes.compare(address, 0, full, 0, full) !== 0) return false;
  const bits = range.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (range.bytes[full]! & mask) === (address[full]! & mask);
}
