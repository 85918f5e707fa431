import { Attr, MAX_PACKET_LENGTH } from './constants.js';
import { signPacket } from './authenticators.js';

/** An attribute ready for the wire: its complete TLV (type, length, value). */
export type EncodedAttribute = Buffer;

export function tlv(type: number, value: Buffer): EncodedAttribute {
  if (value.length > 253) throw new RangeError(`attribute ${type} value is ${value.length} octets (max 253)`);
  const out = Buffer.allocUnsafe(value.length + 2);
  out[0] = type;
  out[1] = value.length + 2;
  value.copy(out, 2);
  return out;
}

/** Integer attributes are unsigned 32-bit: anything larger is sent as the largest value a NAS can read. */
function clampToUint32(value: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.floor(value)));
}

export function integerTlv(type: number, value: number): EncodedAttribute {
  const out = Buffer.allocUnsafe(6);
  out[0] = type;
  out[1] = 6;
  out.writeUInt32BE(clampToUint32(value), 2);
  return out;
}

/** Encoded in place rather than through an intermediate value Buffer: Accept replies carry several. */
export function textTlv(type: number, value: string): EncodedAttribute {
  const length = Buffer.byteLength(value, 'utf8');
  if (length > 253) throw new RangeError(`attribute ${type} value is ${length} octets (max 253)`);
  const out = Buffer.allocUnsafe(length + 2);
  out[0] = type;
  out[1] = length + 2;
  out.write(value, 2, 'utf8');
  return out;
}

/** Vendor-Specific (RFC 2865 §5.26) carrying one vendor attribute with 1-octet type and length. */
export function vendorTlv(vendorId: number, vendorType: number, value: Buffer): EncodedAttribute {
  if (value.length > 247) throw new RangeError(`vendor ${vendorId} attribute ${vendorType} is too long`);
  const out = Buffer.allocUnsafe(value.length + 8);
  out[0] = Attr.VendorSpecific;
  out[1] = value.length + 8;
  out.writeUInt32BE(vendorId, 2);
  out[6] = vendorType;
  out[7] = value.length + 2;
  value.copy(out, 8);
  return out;
}

/** `vendorTlv` with a 4-octet integer, written in place. */
export function integerVendorTlv(vendorId: number, vendorType: number, value: number): EncodedAttribute {
  const out = Buffer.allocUnsafe(12);
  out[0] = Attr.VendorSpecific;
  out[1] = 12;
  out.writeUInt32BE(vendorId, 2);
  out[6] = vendorType;
  out[7] = 6;
  out.writeUInt32BE(clampToUint32(value), 8);
  return out;
}

export interface PacketSpec {
  code: number;
  identifier: number;
  /** Request authenticator for replies; random for Access-Request/Status-Server; ignored for computed requests. */
  authenticator: Buffer | null;
  attributes: readonly EncodedAttribute[];
  secret: Buffer;
  /** Put Message-Authenticator first (BlastRADIUS, CVE-2024-3596). */
  messageAuthenticator: boolean;
}

/** Builds and signs a packet with Message-Authenticator as the first attribute. */
export function buildPacket(spec: PacketSpec): Buffer {
  let length = 20 + (spec.messageAuthenticator ? 18 : 0);
  for (const attribute of spec.attributes) length += attribute.length;
  if (length > MAX_PACKET_LENGTH) throw new RangeError(`packet would be ${length} octets`);
  // Unzeroed: every octet is written below or by signPacket (authenticator, Message-Authenticator).
  const packet = Buffer.allocUnsafe(length);
  packet[0] = spec.code;
  packet[1] = spec.identifier;
  packet.writeUInt16BE(length, 2);
  const isRandomRequest = spec.code === 1 || spec.code === 12;
  if (isRandomRequest) {
    if (spec.authenticator) spec.authenticator.copy(packet, 4);
    else packet.fill(0, 4, 20);
  }
  let offset = 20;
  if (spec.messageAuthenticator) {
    packet[20] = Attr.MessageAuthenticator;
    packet[21] = 18;
    offset = 38;
  }
  for (const attribute of spec.attributes) {
    attribute.copy(packet, offset);
    offset += attribute.length;
  }
  return signPacket(
    packet,
    spec.messageAuthenticator ? 20 : -1,
    spec.secret,
    isRandomRequest ? null : spec.authenticator,
  );
}
