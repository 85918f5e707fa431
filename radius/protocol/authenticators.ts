import { createHash, timingSafeEqual } from 'node:crypto';
import { Md5 } from './md5.js';
import { AUTHENTICATOR_LENGTH, Code } from './constants.js';
import type { Frame } from './framing.js';

const ZERO16 = Buffer.alloc(16);
/** One hasher for the whole process: every use below is synchronous and complete before returning. */
const md5 = new Md5();
const scratch = Buffer.alloc(16);
const expected = Buffer.alloc(16);

/** Codes whose Request Authenticator is an MD5 over the packet (RFC 2866 §3, RFC 5176 §3.5). */
export function hasComputedRequestAuthenticator(code: number): boolean {
  return code === Code.AccountingRequest || code === Code.DisconnectRequest || code === Code.CoaRequest;
}

/** MD5(Code+Identifier+Length + `authenticator` + Attributes + Secret), written into `out` at `at`. */
export function packetDigest(
  packet: Buffer,
  authenticator: Buffer,
  secret: Buffer,
  out: Buffer = Buffer.allocUnsafe(16),
  at = 0,
): Buffer {
  md5.reset().update(packet, 0, 4).update(authenticator).update(packet, 20).update(secret).digestInto(out, at);
  return out;
}

/** Accounting-Request, Disconnect-Request, CoA-Request: the authenticator proves the secret. */
export function verifyRequestAuthenticator(frame: Frame, secret: Buffer): boolean {
  return timingSafeEqual(packetDigest(frame.packet, ZERO16, secret, expected), frame.authenticator);
}

/** A reply's Response Authenticator, computed over the request's authenticator. */
export function verifyResponseAuthenticator(reply: Frame, requestAuthenticator: Buffer, secret: Buffer): boolean {
  return timingSafeEqual(packetDigest(reply.packet, requestAuthenticator, secret, expected), reply.authenticator);
}

interface HmacPads {
  inner: Int32Array;
  outer: Int32Array;
}

const padsBySecret = new WeakMap<Buffer, HmacPads>();

/** RFC 2104 HMAC-MD5 key pads, hashed once per secret: each packet then starts from their state. */
function padsOf(secret: Buffer): HmacPads {
  let pads = padsBySecret.get(secret);
  if (!pads) {
    const key = Buffer.alloc(64);
    (secret.length > 64 ? createHash('md5').update(secret).digest() : secret).copy(key);
    const pad = (value: number): Int32Array =>
      new Md5().update(Buffer.from(key.map((byte) => byte ^ value))).snapshot();
    pads = { inner: pad(0x36), outer: pad(0x5c) };
    padsBySecret.set(secret, pads);
  }
  return pads;
}

/**
 * HMAC-MD5 of the packet with the Message-Authenticator value as zeros (RFC 3579 §3.2) and
 * the authenticator field as `authenticator`, without copying the packet.
 */
export function messageAuthenticatorOf(
  packet: Buffer,
  maOffset: number,
  authenticator: Buffer,
  secret: Buffer,
  out: Buffer = Buffer.allocUnsafe(16),
  at = 0,
): Buffer {
  const pads = padsOf(secret);
  md5
    .reset(pads.inner, 64)
    .update(packet, 0, 4)
    .update(authenticator)
    .update(packet, 20, maOffset + 2)
    .update(ZERO16)
    .update(packet, maOffset + 18)
    .digestInto(scratch);
  md5.reset(pads.outer, 64).update(scratch).digestInto(out, at);
  return out;
}

/**
 * Checks Message-Authenticator of a received packet. Requests computed with a zero authenticator
 * field (accounting, CoA) use zeros; Access-Request/Status-Server their own random authenticator;
 * replies the authenticator of the request they answer.
 */
export function verifyMessageAuthenticator(frame: Frame, secret: Buffer, requestAuthenticator?: Buffer): boolean {
  const offset = frame.messageAuthenticatorOffset;
  if (offset < 0) return false;
  const authenticator =
    requestAuthenticator ?? (hasComputedRequestAuthenticator(frame.code) ? ZERO16 : frame.authenticator);
  messageAuthenticatorOf(frame.packet, offset, authenticator, secret, expected);
  return timingSafeEqual(expected, frame.packet.subarray(offset + 2, offset + 18));
}

/**
 * Fills in Message-Authenticator (when `maOffset` ≥ 0) and the authenticator field of an
 * outgoing packet in place. For replies pass the request authenticator; for computed requests
 * pass null (zeros); for Access-Request/Status-Server pass the random authenticator already in place.
 */
export function signPacket(
  packet: Buffer,
  maOffset: number,
  secret: Buffer,
  requestAuthenticator: Buffer | null,
): Buffer {
  const isComputedRequest = hasComputedRequestAuthenticator(packet[0]!);
  const isRandomRequest = packet[0] === Code.AccessRequest || packet[0] === Code.StatusServer;
  const macAuthenticator = isComputedRequest
    ? ZERO16
    : isRandomRequest
      ? packet.subarray(4, 20)
      : requestAuthenticator!;
  if (maOffset >= 0) messageAuthenticatorOf(packet, maOffset, macAuthenticator, secret, packet, maOffset + 2);
  if (isComputedRequest) packetDigest(packet, ZERO16, secret, packet, 4);
  else if (!isRandomRequest) packetDigest(packet, requestAuthenticator!, secret, packet, 4);
  return packet;
}

/** RFC 2865 §5.2 User-Password hiding; null when the field is malformed. */
export function decryptUserPassword(hidden: Buffer, requestAuthenticator: Buffer, secret: Buffer): Buffer | null {
  if (hidden.length < 16 || hidden.length > 128 || hidden.length % 16 !== 0) return null;
  const out = Buffer.allocUnsafe(hidden.length);
  let previous = requestAuthenticator;
  for (let block = 0; block < hidden.length; block += 16) {
    md5.reset().update(secret).update(previous).digestInto(scratch);
    for (let i = 0; i < 16; i++) out[block + i] = hidden[block + i]! ^ scratch[i]!;
    previous = hidden.subarray(block, block + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

export function encryptUserPassword(password: Buffer, requestAuthenticator: Buffer, secret: Buffer): Buffer {
  const length = Math.max(16, Math.ceil(password.length / 16) * 16);
  const out = Buffer.alloc(length);
  password.copy(out);
  let previous = requestAuthenticator;
  for (let block = 0; block < length; block += 16) {
    const pad = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) out[block + i] = out[block + i]! ^ pad[i]!;
    previous = out.subarray(block, block + 16);
  }
  return out;
}

/** RFC 1994 CHAP: Response = MD5(Ident + Secret + Challenge), compared in constant time. */
export function verifyChap(chapPassword: Buffer, challenge: Buffer, password: Buffer): boolean {
  if (chapPassword.length !== 1 + AUTHENTICATOR_LENGTH) return false;
  md5.reset().update(chapPassword, 0, 1).update(password).update(challenge).digestInto(expected);
  return timingSafeEqual(expected, chapPassword.subarray(1));
}
