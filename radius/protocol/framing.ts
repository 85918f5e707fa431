import { Attr, HEADER_LENGTH, MAX_PACKET_LENGTH } from './constants.js';

/**
 * One attribute as it sits in the packet: `offset` points at its type octet, `length` is the
 * whole TLV. No view is made until a value is asked for (`valueOf`): most attributes of a
 * request are never read, and a Buffer view per attribute showed up as garbage per packet.
 */
export interface RawAttribute {
  type: number;
  offset: number;
  length: number;
}

export interface Frame {
  code: number;
  identifier: number;
  /** The packet trimmed to its Length field (trailing UDP padding is ignored, RFC 2865 §3). */
  packet: Buffer;
  authenticator: Buffer;
  attributes: RawAttribute[];
  /** Offset of the Message-Authenticator attribute, or -1. */
  messageAuthenticatorOffset: number;
}

export type FrameError =
  | 'short-datagram'
  | 'bad-length-field'
  | 'length-exceeds-datagram'
  | 'attribute-header-overrun'
  | 'attribute-length-too-small'
  | 'attribute-overrun'
  | 'bad-message-authenticator-length'
  | 'duplicate-message-authenticator';

/**
 * Checks the framing that the `radius` package would accept silently (RFC 2865 §3, §5; RFC 3579 §3.2)
 * and splits the attributes. Nothing here trusts a length before checking it against the buffer.
 */
export function parseFrame(datagram: Buffer): Frame | FrameError {
  if (datagram.length < HEADER_LENGTH) return 'short-datagram';
  const length = datagram.readUInt16BE(2);
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH) return 'bad-length-field';
  if (length > datagram.length) return 'length-exceeds-datagram';
  const packet = length === datagram.length ? datagram : datagram.subarray(0, length);
  const attributes: RawAttribute[] = [];
  let messageAuthenticatorOffset = -1;
  let offset = HEADER_LENGTH;
  while (offset < length) {
    if (offset + 2 > length) return 'attribute-header-overrun';
    const type = packet[offset]!;
    const attributeLength = packet[offset + 1]!;
    if (attributeLength < 2) return 'attribute-length-too-small';
    if (offset + attributeLength > length) return 'attribute-overrun';
    if (type === Attr.MessageAuthenticator) {
      if (attributeLength !== 18) return 'bad-message-authenticator-length';
      if (messageAuthenticatorOffset !== -1) return 'duplicate-message-authenticator';
      messageAuthenticatorOffset = offset;
    }
    attributes.push({ type, offset, length: attributeLength });
    offset += attributeLength;
  }
  return {
    code: packet[0]!,
    identifier: packet[1]!,
    packet,
    authenticator: packet.subarray(4, 20),
    attributes,
    messageAuthenticatorOffset,
  };
}

type FrameView = Pick<Frame, 'attributes' | 'packet'>;

export function valueOf(frame: FrameView, attribute: RawAttribute): Buffer {
  return frame.packet.subarray(attribute.offset + 2, attribute.offset + attribute.length);
}

export function firstAttribute(frame: FrameView, type: number): Buffer | undefined {
  for (const attribute of frame.attributes) if (attribute.type === type) return valueOf(frame, attribute);
  return undefined;
}

export function allAttributes(frame: FrameView, type: number): Buffer[] {
  const out: Buffer[] = [];
  for (const attribute of frame.attributes) if (attribute.type === type) out.push(valueOf(frame, attribute));
  return out;
}

/** A 4-octet integer attribute, or undefined when absent or not exactly four octets. */
export function integerAttribute(frame: FrameView, type: number): number | undefined {
  for (const attribute of frame.attributes) {
    if (attribute.type === type)
      return attribute.length === 6 ? frame.packet.readUInt32BE(attribute.offset + 2) : undefined;
  }
  return undefined;
}

export function textAttribute(frame: FrameView, type: number): string | undefined {
  for (const attribute of frame.attributes) {
    if (attribute.type === type)
      return frame.packet.toString('utf8', attribute.offset + 2, attribute.offset + attribute.length);
  }
  return undefined;
}
