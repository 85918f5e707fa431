import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { chapDigest } from '../appliance/credentials/chap.js';
import type { Db, Dialect } from '../appliance/domain/model.js';
import { ownerKeyOf } from '../appliance/entitlements/entitlement.js';
import { sessionIdOf } from '../appliance/sessions/accounting.js';
import { encryptUserPassword } from './protocol/authenticators.js';
import { resolveAttribute } from './protocol/codec.js';
import { AcctStatus, Attr, Code } from './protocol/constants.js';
import { buildPacket, integerTlv, tlv, type EncodedAttribute } from './protocol/encode.js';
import { encodeIpv6Address, encodeIpv6Prefix } from './protocol/ipv6.js';

/**
 * Reads the packet tests in `radius/packet-tests/*.txt` (format in radius/README.md): a preamble
 * naming the store fixture and the source, the request as attribute lines, and the reply expected.
 */

export type Port = 'auth' | 'acct';

export interface PacketTest {
  name: string;
  /** The file's leading comment: what a NAS operator would see happen. */
  description: string;
  fixture: { dialect: Dialect; requireMessageAuthenticator: boolean; ipv6Nas: boolean };
  /** Changes to the standard store fixture (radius/test-fixtures.ts) before the request. */
  given: Given[];
  from: string;
  port: Port;
  request: BuiltRequest | { kind: 'raw'; bytes: Buffer };
  expect: { reply: string; attributes: ExpectedAttribute[] } | { dropped: string };
  /** Fields of the live session the request's Acct-Session-Id names, after the reply. */
  session: ExpectedAttribute[];
}

export interface BuiltRequest {
  kind: 'built';
  code: number;
  attributes: Array<{ name: string; value: string }>;
  messageAuthenticator: 'valid' | 'omit' | 'bad';
  /** Sign with this secret instead of the NAS's (a NAS configured with another). */
  signWith: string | null;
  /** Cut the datagram to this many octets after building it. */
  truncate: number | null;
}

/** `Name == value`, or `Name !* ANY` (absent), as in FreeRADIUS's test files. */
export interface ExpectedAttribute {
  name: string;
  value: string | typeof ABSENT;
}

export const ABSENT = Symbol('absent');

/** A `given` line: state of the standard fixture's account, voucher, credential, subscription or sessions. */
export type Given =
  | { kind: 'account-disabled'; email: string }
  | { kind: 'voucher-spent'; code: string }
  | { kind: 'credential'; username: string; state: 'spent' | 'expired' }
  | { kind: 'subscription-ended'; id: string }
  | { kind: 'session'; mac: string; subscriptionId: string; disconnectPending: boolean };

function givenOf(words: string[]): Given | null {
  const [subject, name = '', state, ...more] = words;
  if (subject === 'account' && state === 'disabled') return { kind: 'account-disabled', email: name };
  if (subject === 'voucher' && state === 'spent') return { kind: 'voucher-spent', code: name };
  if (subject === 'portal-credential' && (state === 'spent' || state === 'expired'))
    return { kind: 'credential', username: name, state };
  if (subject === 'subscription' && state === 'ended') return { kind: 'subscription-ended', id: name };
  // given session <mac> of <subscription> [disconnect-pending]: its Acct-Session-Id is given-<mac>
  if (subject === 'session' && state === 'of' && more[0])
    return { kind: 'session', mac: name, subscriptionId: more[0], disconnectPending: more[1] === 'disconnect-pending' };
  return null;
}

/** Applies a `given` line inside a store update; `nasId` is the fixture's NAS. */
export function applyGiven(db: Db, now: number, nasId: string, given: Given): void {
  const missing = (what: string): never => {
    throw new Error(`given: the fixture has no ${what}`);
  };
  switch (given.kind) {
    case 'account-disabled': {
      const user = Object.values(db.users).find((u) => u.email === given.email) ?? missing(given.email);
      user.disabled = true;
      return;
    }
    case 'voucher-spent': {
      const voucher = db.vouchers[given.code] ?? missing(given.code);
      voucher.uses = 1;
      voucher.firstUsedAt = now;
      return;
    }
    case 'credential': {
      const credential = db.portalCredentials[given.username] ?? missing(given.username);
      if (given.state === 'spent') credential.usedAt = now;
      else credential.expiresAt = now;
      return;
    }
    case 'subscription-ended': {
      const subscription = db.subscriptions[given.id] ?? missing(given.id);
      subscription.endsAt = now - 1;
      return;
    }
    case 'session': {
      const subscription = db.subscriptions[given.subscriptionId] ?? missing(given.subscriptionId);
      const acctSessionId = `given-${given.mac}`;
      const id = sessionIdOf(nasId, acctSessionId);
      db.sessions[id] = {
        id,
        subscriptionId: subscription.id,
        ownerKey: ownerKeyOf(subscription),
        nasId,
        acctSessionId,
        mode: 'controller',
        mac: given.mac,
        ip: null,
        startedAt: now,
        lastUpdateAt: now,
        interimIntervalSeconds: 300,
        inputOctets: 0,
        outputOctets: 0,
        chargedOctets: 0,
        disconnectPendingSince: given.disconnectPending ? now : null,
      };
    }
  }
}

const REQUEST_CODES: Record<string, number> = {
  'Access-Request': Code.AccessRequest,
  'Accounting-Request': Code.AccountingRequest,
  'Status-Server': Code.StatusServer,
};

const DIALECTS: Record<string, Dialect> = { coovachilli: 'coovachilli', mikrotik: 'mikrotik', generic: 'generic' };

/** RFC 6911's attribute, which the `radius` package's dictionary (1.1.4) lacks. */
const EXTRA_ATTRIBUTES: Record<string, { type: number; dataType: string }> = {
  'Framed-IPv6-Address': { type: Attr.FramedIpv6Address, dataType: 'ipv6addr' },
};

/** Named values of the enumerated integers the tests use. */
const NAMED_VALUES: Record<string, Record<string, number>> = {
  'Acct-Status-Type': {
    Start: AcctStatus.Start,
    Stop: AcctStatus.Stop,
    'Interim-Update': AcctStatus.InterimUpdate,
    'Accounting-On': AcctStatus.AccountingOn,
    'Accounting-Off': AcctStatus.AccountingOff,
  },
};

/** The text of a value: a JSON-quoted string, or the bare token. */
export function textOf(value: string): string {
  return value.startsWith('"') ? (JSON.parse(value) as string) : value;
}

function octetsOf(value: string): Buffer {
  return value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(textOf(value), 'utf8');
}

function fail(file: string, line: number, message: string): never {
  throw new Error(`${file}:${line}: ${message}`);
}

/** Parses one test file; a line it cannot read fails with its file and line number. */
export function parsePacketTest(name: string, text: string): PacketTest {
  const test: PacketTest = {
    name,
    description: '',
    fixture: { dialect: 'coovachilli', requireMessageAuthenticator: true, ipv6Nas: true },
    given: [],
    from: '127.0.0.1',
    port: 'auth',
    request: { kind: 'raw', bytes: Buffer.alloc(0) },
    expect: { dropped: '' },
    session: [],
  };
  const description: string[] = [];
  let raw: string[] | null = null;
  let built: BuiltRequest | null = null;
  let expectation: { reply: string; attributes: ExpectedAttribute[] } | null = null;
  let described = false;
  for (const [index, rawLine] of text.split('\n').entries()) {
    const at = index + 1;
    const line = rawLine.trim();
    if (line.startsWith('#')) {
      if (!described) description.push(line.replace(/^#\s?/, ''));
      continue;
    }
    if (line === '') continue;
    described = true;
    const [keyword = '', ...rest] = line.split(/\s+/);
    if (keyword === 'fixture') {
      for (const setting of rest) {
        const [key, value = ''] = setting.split('=');
        if (key === 'dialect' && DIALECTS[value]) test.fixture.dialect = DIALECTS[value];
        else if (key === 'message-authenticator' && (value === 'required' || value === 'optional'))
          test.fixture.requireMessageAuthenticator = value === 'required';
        else if (key === 'ipv6-nas' && (value === 'present' || value === 'absent'))
          test.fixture.ipv6Nas = value === 'present';
        else fail(name, at, `unknown fixture setting ${setting}`);
      }
    } else if (keyword === 'given') {
      test.given.push(givenOf(rest) ?? fail(name, at, `cannot read given ${rest.join(' ')}`));
    } else if (keyword === 'from') {
      test.from = rest[0] ?? fail(name, at, 'from needs an address');
    } else if (keyword === 'send') {
      const [what = '', to, port] = rest;
      if (to !== undefined && (to !== 'to' || (port !== 'auth' && port !== 'acct')))
        fail(name, at, 'send … to auth|acct');
      if (what === 'raw') {
        raw = [];
        test.port = (port as Port | undefined) ?? 'auth';
      } else {
        const code = REQUEST_CODES[what] ?? fail(name, at, `cannot send ${what}`);
        built = {
          kind: 'built',
          code,
          attributes: [],
          messageAuthenticator: code === Code.AccountingRequest ? 'omit' : 'valid',
          signWith: null,
          truncate: null,
        };
        test.port = (port as Port | undefined) ?? (code === Code.AccountingRequest ? 'acct' : 'auth');
      }
    } else if (keyword === 'expect') {
      const [what = '', reason] = rest;
      if (what === 'drop') test.expect = { dropped: reason ?? fail(name, at, 'expect drop <reason>') };
      else test.expect = expectation = { reply: what, attributes: [] };
    } else if (keyword === 'session') {
      const match = /^session\s+(\S+)\s+==\s+(.+)$/.exec(line) ?? fail(name, at, 'session <field> == <value>');
      test.session.push({ name: match[1]!, value: match[2]! });
    } else if (expectation) {
      const absent = /^(\S+)\s+!\*\s+ANY$/.exec(line);
      const equal = /^(\S+)\s+==\s+(.+)$/.exec(line);
      if (absent) expectation.attributes.push({ name: absent[1]!, value: ABSENT });
      else if (equal) expectation.attributes.push({ name: equal[1]!, value: equal[2]! });
      else fail(name, at, 'a reply line is `Name == value` or `Name !* ANY`');
    } else if (raw) {
      if (!/^[0-9a-f\s]+$/i.test(line)) fail(name, at, 'a raw request is hex octets');
      raw.push(line.replace(/\s+/g, ''));
    } else if (built) {
      if (keyword === 'truncate') built.truncate = Number(rest[0]);
      else if (keyword === 'sign-with') built.signWith = textOf(rest.join(' '));
      else {
        const match = /^(\S+)\s+=\s+(.+)$/.exec(line) ?? fail(name, at, 'a request line is `Name = value`');
        const [, attribute = '', value = ''] = match;
        if (attribute !== 'Message-Authenticator') built.attributes.push({ name: attribute, value });
        else if (value === 'omit' || value === 'bad' || value === 'valid') built.messageAuthenticator = value;
        else fail(name, at, 'Message-Authenticator = valid|omit|bad');
      }
    } else {
      fail(name, at, `unexpected line before send: ${line}`);
    }
  }
  if (built) test.request = built;
  else if (raw) test.request = { kind: 'raw', bytes: Buffer.from(raw.join(''), 'hex') };
  else fail(name, 0, 'no send line');
  if ('dropped' in test.expect && test.expect.dropped === '') fail(name, 0, 'no expect line');
  test.description = description.join(' ').trim();
  return test;
}

function encodeValue(name: string, value: string, dataType: string, type: number): EncodedAttribute {
  switch (dataType) {
    case 'integer':
    case 'date': {
      const named = NAMED_VALUES[name]?.[value];
      const number = named ?? Number(value);
      if (!Number.isInteger(number)) throw new Error(`${name}: ${value} is not an integer`);
      return integerTlv(type, number);
    }
    case 'ipaddr': {
      if (!isIPv4(value)) throw new Error(`${name}: ${value} is not an IPv4 address`);
      return tlv(type, Buffer.from(value.split('.').map(Number)));
    }
    case 'ipv6addr':
      return tlv(type, encodeIpv6Address(value) ?? Buffer.alloc(0));
    case 'ipv6prefix':
      return tlv(type, encodeIpv6Prefix(value) ?? Buffer.alloc(0));
    default:
      return tlv(type, octetsOf(value));
  }
}

/** The datagram a NAS would send for this test, signed with `secret` (or the test's own). */
export function buildRequest(test: PacketTest, identifier: number, nasSecret: Buffer): Buffer {
  const request = test.request;
  if (request.kind === 'raw') return request.bytes;
  const secret = request.signWith === null ? nasSecret : Buffer.from(request.signWith);
  const computed = request.code === Code.AccountingRequest;
  const authenticator = randomBytes(16);
  const challenge = request.attributes.find((attribute) => attribute.name === 'CHAP-Challenge');
  const attributes = request.attributes.map(({ name, value }): EncodedAttribute => {
    if (name === 'User-Password')
      return tlv(Attr.UserPassword, encryptUserPassword(octetsOf(value), authenticator, secret));
    if (name === 'CHAP-Password') {
      const against = challenge ? octetsOf(challenge.value) : authenticator;
      const digest = chapDigest(identifier, octetsOf(value), against);
      return tlv(Attr.ChapPassword, Buffer.concat([Buffer.from([identifier]), digest]));
    }
    const known = EXTRA_ATTRIBUTES[name] ?? resolveAttribute(name);
    return encodeValue(name, value, known.dataType, known.type);
  });
  const packet = buildPacket({
    code: request.code,
    identifier,
    authenticator: computed ? null : authenticator,
    attributes,
    secret,
    messageAuthenticator: request.messageAuthenticator !== 'omit',
  });
  // Message-Authenticator is the first attribute: its value starts at octet 22.
  if (request.messageAuthenticator === 'bad') packet[22] = packet[22]! ^ 0xff;
  return request.truncate === null ? packet : packet.subarray(0, request.truncate);
}

/** Whether a decoded attribute (number, text or octets) is the value a test expects. */
export function valueMatches(actual: unknown, expected: string | typeof ABSENT): boolean {
  if (expected === ABSENT) return actual === undefined;
  if (Buffer.isBuffer(actual))
    return expected.startsWith('0x')
      ? actual.toString('hex') === expected.slice(2).toLowerCase()
      : actual.equals(octetsOf(expected));
  if (typeof actual === 'number') return actual === Number(expected);
  if (Array.isArray(actual)) return actual.join(' ') === textOf(expected);
  return actual !== undefined && actual !== null && String(actual) === textOf(expected);
}

/** An attribute value as a test file would write it, for failure messages. */
export function shown(actual: unknown): string {
  if (actual === undefined) return '(absent)';
  if (Buffer.isBuffer(actual)) return `0x${actual.toString('hex')}`;
  if (Array.isArray(actual)) return JSON.stringify(actual.join(' '));
  return typeof actual === 'string' ? JSON.stringify(actual) : String(actual);
}
