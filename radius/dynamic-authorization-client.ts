import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { encodeIpv6Address, encodeIpv6Prefix } from './protocol/ipv6.js';
import type { Clock } from '../shared/clock.js';
import type { NasClient } from '../appliance/domain/model.js';
import type { Logger } from '../shared/logger.js';
import type {
  DynamicAuthorizationPort,
  DynamicAuthorizationResult,
  DynamicAuthorizationTarget,
} from '../appliance/sessions/enforcer.js';
import type { SessionLimits } from '../appliance/sessions/limits.js';
import { compileDialects, type CompiledDialect } from './dialects.js';
import { verifyMessageAuthenticator, verifyResponseAuthenticator } from './protocol/authenticators.js';
import { Attr, Code } from './protocol/constants.js';
import { decodePacket } from './protocol/codec.js';
import { buildPacket, integerTlv, textTlv, tlv, type EncodedAttribute } from './protocol/encode.js';
import { integerAttribute, parseFrame } from './protocol/framing.js';

export interface DynamicAuthorizationClientOptions {
  clock: Clock;
  logger: Logger;
  /** First wait for an answer; doubles on every retry. */
  timeoutMs: number;
  retries: number;
  /** Where to reach a NAS whose source is a CIDR (the RADIUS server's `lastAddressOf`). */
  addressOf?: (nas: NasClient) => string | null;
}

export interface DynamicAuthorizationClient extends DynamicAuthorizationPort {
  close(): Promise<void>;
}

interface Pending {
  expect: readonly number[];
  authenticator: Buffer;
  secret: Buffer;
  requireMessageAuthenticator: boolean;
  settle: (reply: { code: number; errorCause: number | null; errorCauseName: string | null }) => void;
}

function nasAddress(nas: NasClient, addressOf: DynamicAuthorizationClientOptions['addressOf']): string | null {
  const [address = '', prefix] = nas.source.split('/');
  const single = prefix === undefined || prefix === (isIPv4(address) ? '32' : '128');
  return single ? address : (addressOf?.(nas) ?? null);
}

function sessionIdentification(target: DynamicAuthorizationTarget): EncodedAttribute[] {
  const { session } = target;
  const attributes: EncodedAttribute[] = [];
  if (session.acctSessionId) attributes.push(textTlv(Attr.AcctSessionId, session.acctSessionId));
  if (session.ip && isIPv4(session.ip))
    attributes.push(tlv(Attr.FramedIpAddress, Buffer.from(session.ip.split('.').map(Number))));
  // A client is named by its IPv6 address and prefixes too (RFC 5176 §3, RFC 6911): an IPv6-only
  // client has no other address, and a dual-stack NAS may key the session by either.
  const ipv6Text = session.ip && isIPv6(session.ip) ? session.ip : session.ipv6Address;
  const ipv6 = ipv6Text ? encodeIpv6Address(ipv6Text) : null;
  if (ipv6) attributes.push(tlv(Attr.FramedIpv6Address, ipv6));
  for (const prefix of session.ipv6Prefixes ?? []) {
    const encoded = encodeIpv6Prefix(prefix);
    if (encoded) attributes.push(tlv(Attr.FramedIpv6Prefix, encoded));
  }
  return attributes;
}

/**
 * RFC 5176 client: sends Disconnect-Request / CoA-Request to a NAS's CoA port, Message-Authenticator
 * first, retransmits the identical packet with doubling waits, and verifies the answer's
 * authenticators before believing an ACK or NAK.
 */
export function createDynamicAuthorizationClient(
  options: DynamicAuthorizationClientOptions,
): DynamicAuthorizationClient {
  const dialects: Record<string, CompiledDialect> = compileDialects();
  const sockets = new Map<'udp4' | 'udp6', Socket>();
  const pending = new Map<string, Pending>();
  const nextId = new Map<string, number>();

  const socketFor = (type: 'udp4' | 'udp6'): Socket => {
    let socket = sockets.get(type);
    if (!socket) {
      socket = createSocket(type);
      socket.on('message', (message, rinfo) => {
        const frame = parseFrame(message);
        if (typeof frame === 'string') return;
        const address = rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address;
        const key = `${address}|${rinfo.port}|${frame.identifier}`;
        const waiting = pending.get(key);
        if (!waiting || !waiting.expect.includes(frame.code)) return;
        if (!verifyResponseAuthenticator(frame, waiting.authenticator, waiting.secret)) return;
        const hasMa = frame.messageAuthenticatorOffset >= 0;
        // A NAS held to Message-Authenticator is held to it both ways: an unsigned ACK could be forged.
        if (!hasMa && waiting.requireMessageAuthenticator) return;
        if (hasMa && !verifyMessageAuthenticator(frame, waiting.secret, waiting.authenticator)) return;
        const errorCause = integerAttribute(frame, Attr.ErrorCause) ?? null;
        const decoded = errorCause === null ? null : decodePacket(frame.packet);
        const name = decoded?.attributes['Error-Cause'];
        waiting.settle({ code: frame.code, errorCause, errorCauseName: typeof name === 'string' ? name : null });
      });
      socket.on('error', (err) => options.logger.warn({ err }, 'dynamic authorization socket error'));
      socket.bind(0);
      socket.unref();
      sockets.set(type, socket);
    }
    return socket;
  };

  const allocateId = (destination: string): number | null => {
    const start = nextId.get(destination) ?? 0;
    for (let step = 0; step < 256; step++) {
      const id = (start + step) % 256;
      if (!pending.has(`${destination}|${id}`)) {
        nextId.set(destination, (id + 1) % 256);
        return id;
      }
    }
    return null;
  };

  const exchange = async (
    target: DynamicAuthorizationTarget,
    code: typeof Code.DisconnectRequest | typeof Code.CoaRequest,
    attributes: EncodedAttribute[],
  ): Promise<DynamicAuthorizationResult> => {
    const address = nasAddress(target.nas, options.addressOf);
    if (!address) return { outcome: 'timeout', attempts: 0 };
    const destination = `${address}|${target.nas.coaPort}`;
    const identifier = allocateId(destination);
    if (identifier === null) return { outcome: 'timeout', attempts: 0 };
    const secret = Buffer.from(target.nas.secret, 'utf8');
    const packet = buildPacket({
      code,
      identifier,
      authenticator: null,
      attributes: [...attributes, integerTlv(Attr.EventTimestamp, options.clock.now() / 1000)],
      secret,
      messageAuthenticator: true,
    });
    const socket = socketFor(isIPv6(address) ? 'udp6' : 'udp4');
    const key = `${destination}|${identifier}`;
    const expect =
      code === Code.DisconnectRequest ? [Code.DisconnectAck, Code.DisconnectNak] : [Code.CoaAck, Code.CoaNak];
    let attempts = 0;
    try {
      for (let attempt = 0; attempt <= options.retries; attempt++) {
        attempts = attempt + 1;
        const answer = await new Promise<{
          code: number;
          errorCause: number | null;
          errorCauseName: string | null;
        } | null>((resolve) => {
          const timer = setTimeout(() => resolve(null), options.timeoutMs * 2 ** attempt);
          pending.set(key, {
            expect,
            authenticator: packet.subarray(4, 20),
            secret,
            requireMessageAuthenticator: target.nas.requireMessageAuthenticator,
            settle: (reply) => {
              clearTimeout(timer);
              resolve(reply);
            },
          });
          socket.send(packet, target.nas.coaPort, address);
        });
        if (answer === null) continue;
        if (answer.code === Code.DisconnectAck || answer.code === Code.CoaAck) return { outcome: 'ack', attempts };
        return { outcome: 'nak', attempts, errorCause: answer.errorCause, errorCauseName: answer.errorCauseName };
      }
      return { outcome: 'timeout', attempts };
    } finally {
      pending.delete(key);
    }
  };

  return {
    disconnect: (target) => exchange(target, Code.DisconnectRequest, sessionIdentification(target)),
    changeAuthorization: (target, limits: SessionLimits) =>
      exchange(target, Code.CoaRequest, [
        ...sessionIdentification(target),
        ...dialects[target.nas.dialect]!.encodeChange(limits, {
          elapsedSeconds: Math.floor((options.clock.now() - target.session.startedAt) / 1000),
          octets: target.session.inputOctets + target.session.outputOctets,
        }),
      ]),
    close: async () => {
      await Promise.all(
        [...sockets.values()].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
      );
      sockets.clear();
    },
  };
}
