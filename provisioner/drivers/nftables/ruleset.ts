import { isIP } from 'node:net';

/**
 * Text of the nft scripts the driver feeds to `nft -f -`. Every value spliced in
 * here has passed provisioner/validation.ts (canonical addresses, lower-case
 * MACs, [A-Za-z0-9_-] session ids, RFC 1123 host names), so no quoting games are
 * possible; interface names are checked by `assertInterfaceName` at startup.
 *
 * Layout of `table inet turnpike`:
 *   allowed_v4 / allowed_v6   guest addresses, timeout = remaining session time,
 *                             per-element counter, comment = session metadata
 *   allowed_mac               the MACs of those guests (a member must match both)
 *   up_v4/up_v6/down_v4/down_v6  address → named `limit` object (per-client rate)
 *   garden_v4 / garden_v6     walled-garden CIDRs (interval sets)
 *   garden_dns_v4 / _v6       addresses of walled-garden domains, comment = domain
 *   prerouting (nat)          non-member HTTP → portal (DNAT)
 *   forward (filter, drop)    → from_lan / to_lan
 *   postrouting (nat)         masquerade guest traffic leaving the LAN
 */
export const TABLE = 'inet turnpike';

export interface RulesetOptions {
  /** Interface facing the guests. */
  lanInterface: string;
  /** Portal address on the gateway (IPv4) and port that port 80 is redirected to. */
  portalIp: string;
  portalPort: number;
  /** Optional IPv6 portal address; without it IPv6 HTTP from guests is reset like HTTPS. */
  portalIp6?: string;
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function assertInterfaceName(name: string): string {
  if (!IFNAME.test(name)) throw new Error(`lan interface ${JSON.stringify(name)} is not an interface name`);
  return name;
}

/**
 * Creates what is missing and rewrites the chains; sets, maps and their
 * elements survive, which is how a restarted daemon adopts its table.
 */
export function baseRuleset(o: RulesetOptions): string {
  const lan = `"${assertInterfaceName(o.lanInterface)}"`;
  const t = TABLE;
  const http6 = o.portalIp6 ? `meta nfproto ipv6 tcp dport 80 dnat ip6 to [${o.portalIp6}]:${o.portalPort}` : '';
  return [
    `add table ${t}`,
    `add set ${t} allowed_v4 { type ipv4_addr; flags timeout; counter; }`,
    `add set ${t} allowed_v6 { type ipv6_addr; flags timeout; counter; }`,
    `add set ${t} allowed_mac { type ether_addr; flags timeout; }`,
    `add set ${t} garden_v4 { type ipv4_addr; flags interval; }`,
    `add set ${t} garden_v6 { type ipv6_addr; flags interval; }`,
    `add set ${t} garden_dns_v4 { type ipv4_addr; }`,
    `add set ${t} garden_dns_v6 { type ipv6_addr; }`,
    `add map ${t} up_v4 { type ipv4_addr : limit; flags timeout; }`,
    `add map ${t} up_v6 { type ipv6_addr : limit; flags timeout; }`,
    `add map ${t} down_v4 { type ipv4_addr : limit; flags timeout; }`,
    `add map ${t} down_v6 { type ipv6_addr : limit; flags timeout; }`,
    `add chain ${t} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${t} forward { type filter hook forward priority filter; policy drop; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${t} from_lan`,
    `add chain ${t} to_lan`,
    `flush chain ${t} prerouting`,
    `flush chain ${t} forward`,
    `flush chain ${t} postrouting`,
    `flush chain ${t} from_lan`,
    `flush chain ${t} to_lan`,
    `add rule ${t} prerouting iifname != ${lan} return`,
    `add rule ${t} prerouting ip saddr @allowed_v4 ether saddr @allowed_mac return`,
    `add rule ${t} prerouting ip6 saddr @allowed_v6 ether saddr @allowed_mac return`,
    `add rule ${t} prerouting ip daddr @garden_v4 return`,
    `add rule ${t} prerouting ip daddr @garden_dns_v4 return`,
    `add rule ${t} prerouting ip6 daddr @garden_v6 return`,
    `add rule ${t} prerouting ip6 daddr @garden_dns_v6 return`,
    `add rule ${t} prerouting meta nfproto ipv4 tcp dport 80 dnat ip to ${o.portalIp}:${o.portalPort}`,
    ...(http6 ? [`add rule ${t} prerouting ${http6}`] : []),
    `add rule ${t} forward iifname ${lan} jump from_lan`,
    `add rule ${t} forward oifname ${lan} jump to_lan`,
    `add rule ${t} forward ct state established,related accept`,
    // Guests: rate limit first, then members, then what anyone may reach.
    `add rule ${t} from_lan limit name ip saddr map @up_v4 drop`,
    `add rule ${t} from_lan limit name ip6 saddr map @up_v6 drop`,
    `add rule ${t} from_lan ip saddr @allowed_v4 ether saddr @allowed_mac accept`,
    `add rule ${t} from_lan ip6 saddr @allowed_v6 ether saddr @allowed_mac accept`,
    `add rule ${t} from_lan ip daddr @garden_v4 accept`,
    `add rule ${t} from_lan ip daddr @garden_dns_v4 accept`,
    `add rule ${t} from_lan ip6 daddr @garden_v6 accept`,
    `add rule ${t} from_lan ip6 daddr @garden_dns_v6 accept`,
    `add rule ${t} from_lan meta l4proto { tcp, udp } th dport 53 accept`,
    `add rule ${t} from_lan meta l4proto ipv6-icmp accept`,
    // HTTPS (and any TCP a non-member tries) fails fast instead of hanging.
    `add rule ${t} from_lan tcp dport 443 reject with tcp reset`,
    `add rule ${t} from_lan drop`,
    // Replies toward guests; the member lookup counts download bytes on the element.
    `add rule ${t} to_lan limit name ip daddr map @down_v4 drop`,
    `add rule ${t} to_lan limit name ip6 daddr map @down_v6 drop`,
    `add rule ${t} to_lan ct state established,related ip daddr @allowed_v4 accept`,
    `add rule ${t} to_lan ct state established,related ip6 daddr @allowed_v6 accept`,
    `add rule ${t} to_lan ct state established,related accept`,
    `add rule ${t} to_lan meta l4proto ipv6-icmp accept`,
    `add rule ${t} to_lan drop`,
    `add rule ${t} postrouting iifname ${lan} oifname != ${lan} masquerade`,
    '',
  ].join('\n');
}

export type Family = 'v4' | 'v6';

export function familyOf(ip: string): Family {
  return isIP(ip) === 6 ? 'v6' : 'v4';
}

/** Name of the per-client limit object; derived from the address so it is found again after a restart. */
export function limitName(direction: 'up' | 'down', ip: string): string {
  return `${direction}_${ip.replace(/[.:]/g, '_')}`;
}

export interface ClientMeta {
  sessionId: string;
  mac: string;
  upKbps: number;
  downKbps: number;
}

export function encodeComment(m: ClientMeta): string {
  return `sid=${m.sessionId};mac=${m.mac};up=${m.upKbps};down=${m.downKbps}`;
}

export function decodeComment(comment: string | undefined): ClientMeta {
  const fields = new Map((comment ?? '').split(';').map((kv) => kv.split('=', 2) as [string, string]));
  return {
    sessionId: fields.get('sid') ?? '',
    mac: fields.get('mac') ?? '',
    upKbps: Number(fields.get('up') ?? 0) || 0,
    downKbps: Number(fields.get('down') ?? 0) || 0,
  };
}

/** Deletes an element whether or not it exists: `add` makes it exist inside the same transaction. */
function destroyElement(set: string, key: string, value?: string): string[] {
  const v = value === undefined ? '' : ` : ${value}`;
  return [`add element ${TABLE} ${set} { ${key}${v} }`, `delete element ${TABLE} ${set} { ${key} }`];
}

function destroyLimit(name: string): string[] {
  return [`add limit ${TABLE} ${name} { rate 1 bytes/second }`, `delete limit ${TABLE} ${name}`];
}

export interface AllowScriptInput extends ClientMeta {
  ip: string;
  seconds: number;
  /** Seconds the MAC element must live: the longest of this client's and others sharing the MAC. */
  macSeconds: number;
  /** Counters carried over when an existing entry is refreshed. */
  packets: number;
  bytes: number;
  /** A MAC this address used before and nobody else uses any more. */
  staleMac?: string;
}

/**
 * The kernel's bucket holds one second of rate plus the burst; a quarter second
 * more (never less than two full frames) keeps TCP from collapsing on a hard edge.
 */
function limitSpec(kbps: number): string {
  const bytesPerSecond = kbps * 125;
  const burst = Math.max(Math.floor(bytesPerSecond / 4), 3028);
  return `rate over ${bytesPerSecond} bytes/second burst ${burst} bytes`;
}

function limitLines(direction: 'up' | 'down', ip: string, kbps: number, seconds: number): string[] {
  const fam = familyOf(ip);
  const map = `${direction}_${fam}`;
  const name = limitName(direction, ip);
  // The map value is always the address's own object, so "make it exist, then delete" works for both.
  const lines = [
    `add limit ${TABLE} ${name} { rate 1 bytes/second }`,
    ...destroyElement(map, ip, `"${name}"`),
    `delete limit ${TABLE} ${name}`,
  ];
  if (kbps > 0) {
    lines.push(`add limit ${TABLE} ${name} { ${limitSpec(kbps)} }`);
    lines.push(`add element ${TABLE} ${map} { ${ip} timeout ${seconds}s : "${name}" }`);
  }
  return lines;
}

/** One transaction: the entry, its MAC and its limits replace whatever was there. */
export function allowScript(c: AllowScriptInput): string {
  const set = `allowed_${familyOf(c.ip)}`;
  return [
    ...destroyElement(set, c.ip),
    `add element ${TABLE} ${set} { ${c.ip} counter packets ${c.packets} bytes ${c.bytes} timeout ${c.seconds}s comment "${encodeComment(c)}" }`,
    ...destroyElement('allowed_mac', c.mac),
    `add element ${TABLE} allowed_mac { ${c.mac} timeout ${c.macSeconds}s }`,
    ...limitLines('up', c.ip, c.upKbps, c.seconds),
    ...limitLines('down', c.ip, c.downKbps, c.seconds),
    ...(c.staleMac ? destroyElement('allowed_mac', c.staleMac) : []),
    '',
  ].join('\n');
}

/**
 * The short way for an address believed absent, with a MAC nobody else uses:
 * only `create`, which the kernel refuses (File exists) when the belief is
 * wrong, so nothing stale survives; the caller then takes `allowScript`.
 * Two commands instead of fourteen for a guest without rates.
 */
export function createScript(c: ClientMeta & { ip: string; seconds: number }): string {
  const fam = familyOf(c.ip);
  const lines = [
    `create element ${TABLE} allowed_${fam} { ${c.ip} counter packets 0 bytes 0 timeout ${c.seconds}s comment "${encodeComment(c)}" }`,
    `create element ${TABLE} allowed_mac { ${c.mac} timeout ${c.seconds}s }`,
  ];
  for (const [direction, kbps] of [
    ['up', c.upKbps],
    ['down', c.downKbps],
  ] as const) {
    if (kbps <= 0) continue;
    const name = limitName(direction, c.ip);
    lines.push(`create limit ${TABLE} ${name} ${limitSpec(kbps)}`);
    lines.push(`create element ${TABLE} ${direction}_${fam} { ${c.ip} timeout ${c.seconds}s : "${name}" }`);
  }
  return [...lines, ''].join('\n');
}

/**
 * The short way to remove an entry whose rates the driver knows: only `delete`,
 * which the kernel refuses (No such file) when something is not as believed;
 * the caller then takes `revokeScript`.
 */
export function deleteScript(ip: string, rates: { upKbps: number; downKbps: number }, mac: string | undefined): string {
  const fam = familyOf(ip);
  const lines = [`delete element ${TABLE} allowed_${fam} { ${ip} }`];
  for (const [direction, kbps] of [
    ['up', rates.upKbps],
    ['down', rates.downKbps],
  ] as const) {
    if (kbps <= 0) continue;
    lines.push(`delete element ${TABLE} ${direction}_${fam} { ${ip} }`);
    lines.push(`delete limit ${TABLE} ${limitName(direction, ip)}`);
  }
  if (mac) lines.push(`delete element ${TABLE} allowed_mac { ${mac} }`);
  return [...lines, ''].join('\n');
}

/** Removes the entry and its limits; removes the MAC too unless another live entry still uses it. */
export function revokeScript(ip: string, mac: string | undefined): string {
  const lines = [
    ...destroyElement(`allowed_${familyOf(ip)}`, ip),
    ...limitLines('up', ip, 0, 0),
    ...limitLines('down', ip, 0, 0),
  ];
  if (mac) lines.push(...destroyElement('allowed_mac', mac));
  return [...lines, ''].join('\n');
}

export function removeLimitsScript(names: string[]): string {
  return [...names.flatMap(destroyLimit), ''].join('\n');
}

export function gardenScript(cidrs: string[], resolved: Array<{ domain: string; ip: string }>): string {
  const lines = ['garden_v4', 'garden_v6', 'garden_dns_v4', 'garden_dns_v6'].map((s) => `flush set ${TABLE} ${s}`);
  for (const cidr of cidrs) {
    lines.push(`add element ${TABLE} garden_${familyOf(cidr.split('/')[0] ?? '')} { ${cidr} comment "${cidr}" }`);
  }
  const seen = new Set<string>();
  for (const { domain, ip } of resolved) {
    if (seen.has(ip)) continue;
    seen.add(ip);
    lines.push(`add element ${TABLE} garden_dns_${familyOf(ip)} { ${ip} comment "${domain}" }`);
  }
  return [...lines, ''].join('\n');
}
