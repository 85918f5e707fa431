import type { Clock } from '../shared/clock.js';
import type { NasClient } from '../appliance/domain/model.js';
import { recordAccounting, type AccountingResult, type AccountingStatus } from '../appliance/sessions/accounting.js';
import type { SessionCaps } from '../appliance/sessions/session-caps.js';
import type { Store } from '../appliance/store/store.js';
import { CLASS_PREFIX, callingStationMac, framedIpv4 } from './access-handler.js';
import { AcctStatus, Attr } from './protocol/constants.js';
import { decodeIpv6Address, decodeIpv6Prefix } from './protocol/ipv6.js';
import { allAttributes, firstAttribute, integerAttribute, valueOf, type Frame } from './protocol/framing.js';

const STATUS: Record<number, AccountingStatus> = {
  [AcctStatus.Start]: 'start',
  [AcctStatus.Stop]: 'stop',
  [AcctStatus.InterimUpdate]: 'interim',
  [AcctStatus.AccountingOn]: 'accounting-on',
  [AcctStatus.AccountingOff]: 'accounting-off',
};

const GIGAWORD = 2 ** 32;

function subscriptionFromClass(frame: Frame): string | null {
  for (const value of allAttributes(frame, Attr.Class)) {
    const text = value.toString('latin1');
    if (text.startsWith(CLASS_PREFIX)) return text.slice(CLASS_PREFIX.length);
  }
  return null;
}

const PREFIX_TYPES = [Attr.FramedIpv6Prefix, Attr.DelegatedIpv6Prefix] as const;

/** Framed-IPv6-Prefix values, then Delegated-IPv6-Prefix values; most requests carry none, and build no arrays. */
function ipv6PrefixesOf(frame: Frame): string[] {
  const prefixes: string[] = [];
  for (const type of PREFIX_TYPES) {
    for (const attribute of frame.attributes) {
      if (attribute.type !== type) continue;
      const prefix = decodeIpv6Prefix(valueOf(frame, attribute));
      if (prefix) prefixes.push(prefix);
    }
  }
  return prefixes;
}

/**
 * Records an authenticated Accounting-Request. Resolves once the store and the history lines
 * are on disk, which is when the caller may send the Accounting-Response. Returns null for a
 * status type Turnpike does not track (acknowledged, nothing to record).
 */
export async function handleAccountingRequest(
  frame: Frame,
  nas: NasClient,
  context: { store: Store; clock: Clock; interimIntervalSeconds: number; caps: SessionCaps },
): Promise<AccountingResult | null> {
  const statusCode = integerAttribute(frame, Attr.AcctStatusType);
  const status = statusCode === undefined ? undefined : STATUS[statusCode];
  if (!status) return null;
  const sessionId = firstAttribute(frame, Attr.AcctSessionId);
  const input =
    (integerAttribute(frame, Attr.AcctInputOctets) ?? 0) +
    (integerAttribute(frame, Attr.AcctInputGigawords) ?? 0) * GIGAWORD;
  const output =
    (integerAttribute(frame, Attr.AcctOutputOctets) ?? 0) +
    (integerAttribute(frame, Attr.AcctOutputGigawords) ?? 0) * GIGAWORD;
  const ipv4 = framedIpv4(frame);
  const ipv6 = decodeIpv6Address(firstAttribute(frame, Attr.FramedIpv6Address));
  const event = {
    nasId: nas.id,
    status,
    acctSessionId: sessionId && sessionId.length > 0 ? sessionId.toString('utf8') : null,
    subscriptionId: subscriptionFromClass(frame),
    mac: callingStationMac(frame),
    ip: ipv4 ?? ipv6,
    ipv6Address: ipv4 ? ipv6 : null,
    ipv6Prefixes: ipv6PrefixesOf(frame),
    inputOctets: input,
    outputOctets: output,
    sessionTime: integerAttribute(frame, Attr.AcctSessionTime) ?? null,
    terminateCause: integerAttribute(frame, Attr.AcctTerminateCause) ?? null,
    interimIntervalSeconds: context.interimIntervalSeconds,
  };
  return recordAccounting(context.store, context.clock, event, context.caps);
}
