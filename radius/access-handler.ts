import type { NasClient } from '../appliance/domain/model.js';
import { normalizeMac } from '../appliance/entitlements/entitlement.js';
import { replyMessageOf, type ErrorCode } from '../shared/errors.js';
import type { AccessPolicy, CredentialProof, LoginDecision } from '../appliance/sessions/access-policy.js';
import { sessionLimitsOf } from '../appliance/sessions/limits.js';
import type { CompiledDialect } from './dialects.js';
import { decryptUserPassword, verifyChap } from './protocol/authenticators.js';
import { Attr, Code } from './protocol/constants.js';
import { firstAttribute, textAttribute, type Frame } from './protocol/framing.js';
import { textTlv, type EncodedAttribute } from './protocol/encode.js';

/** Class values Turnpike sets start with this, so that accounting finds the subscription. */
export const CLASS_PREFIX = 'tp1:';

export interface AccessOutcome {
  code: typeof Code.AccessAccept | typeof Code.AccessReject;
  attributes: EncodedAttribute[];
  /** Why a reject happened, for stats and logs. */
  reason: ErrorCode | null;
}

/** A CHAP response to test candidate passwords against: a class, where a closure per packet cost more. */
class ChapProof {
  readonly kind = 'chap';
  readonly #response: Buffer;
  readonly #challenge: Buffer;

  constructor(response: Buffer, challenge: Buffer) {
    this.#response = response;
    this.#challenge = challenge;
  }

  matches(candidate: Buffer): boolean {
    return verifyChap(this.#response, this.#challenge, candidate);
  }
}

function proofOf(frame: Frame, secret: Buffer): CredentialProof | null {
  const hidden = firstAttribute(frame, Attr.UserPassword);
  const chap = firstAttribute(frame, Attr.ChapPassword);
  if (hidden && chap) return null;
  if (hidden) {
    const password = decryptUserPassword(hidden, frame.authenticator, secret);
    return password ? { kind: 'pap', password } : null;
  }
  if (chap) {
    const challenge = firstAttribute(frame, Attr.ChapChallenge) ?? frame.authenticator;
    return new ChapProof(chap, challenge);
  }
  return { kind: 'none' };
}

const macMemo = new Map<string, string | null>();

/** The request's Calling-Station-Id normalised, read straight from the packet (no view made per request). */
export function callingStationMac(frame: Frame): string | null {
  for (const attribute of frame.attributes) {
    if (attribute.type === Attr.CallingStationId)
      return macOfText(frame.packet.toString('latin1', attribute.offset + 2, attribute.offset + attribute.length));
  }
  return null;
}

/** The request's Framed-IP-Address in dotted form, read straight from the packet; null when absent or malformed. */
export function framedIpv4(frame: Frame): string | null {
  for (const attribute of frame.attributes) {
    if (attribute.type !== Attr.FramedIpAddress) continue;
    if (attribute.length !== 6) return null;
    const packet = frame.packet;
    const at = attribute.offset + 2;
    return `${packet[at]}.${packet[at + 1]}.${packet[at + 2]}.${packet[at + 3]}`;
  }
  return null;
}

/** Calling-Station-Id normalised; NAS send the same few thousand MACs over and over. */
function macOfText(text: string): string | null {
  let mac = macMemo.get(text);
  if (mac === undefined) {
    mac = normalizeMac(text);
    if (macMemo.size >= 65_536) macMemo.clear();
    macMemo.set(text, mac);
  }
  return mac;
}

const classMemo = new Map<string, EncodedAttribute>();

/** The Class attribute naming a subscription; a guest logs in with the same one again and again. */
function classOf(subscriptionId: string): EncodedAttribute {
  let attribute = classMemo.get(subscriptionId);
  if (attribute === undefined) {
    attribute = textTlv(Attr.Class, `${CLASS_PREFIX}${subscriptionId}`);
    if (classMemo.size >= 65_536) classMemo.clear();
    classMemo.set(subscriptionId, attribute);
  }
  return attribute;
}

function reject(code: ErrorCode): AccessOutcome {
  return { code: Code.AccessReject, attributes: [textTlv(Attr.ReplyMessage, replyMessageOf(code))], reason: code };
}

function outcomeOf(
  decision: LoginDecision,
  nas: NasClient,
  context: { dialects: Record<NasClient['dialect'], CompiledDialect>; interimIntervalSeconds: number },
): AccessOutcome {
  if (!decision.ok) return reject(decision.code);
  const limits = sessionLimitsOf(decision.entitlement, context.interimIntervalSeconds);
  const attributes = context.dialects[nas.dialect].encode(limits);
  attributes.push(classOf(decision.entitlement.subscription.id));
  return { code: Code.AccessAccept, attributes, reason: null };
}

/**
 * Turns an authenticated Access-Request into an Accept carrying the plan, or a Reject saying why.
 * Synchronous whenever the policy is (no write, no bcrypt), so the hot path allocates no promises.
 */
export function handleAccessRequest(
  frame: Frame,
  nas: NasClient,
  secret: Buffer,
  context: {
    policy: AccessPolicy;
    dialects: Record<NasClient['dialect'], CompiledDialect>;
    interimIntervalSeconds: number;
  },
): AccessOutcome | Promise<AccessOutcome> {
  const userName = textAttribute(frame, Attr.UserName);
  const proof = proofOf(frame, secret);
  if (!userName || !proof) return reject('TP_ERR_INVALID_CREDENTIALS');
  const decision = context.policy.authorize({
    userName,
    proof,
    mac: callingStationMac(frame),
    ip: framedIpv4(frame),
  });
  return decision instanceof Promise
    ? decision.then((settled) => outcomeOf(settled, nas, context))
    : outcomeOf(decision, nas, context);
}
