import type { Dialect } from '../appliance/domain/model.js';
import type { SessionLimits } from '../appliance/sessions/limits.js';
import { resolveAttribute } from './protocol/codec.js';
import { integerTlv, integerVendorTlv, tlv, vendorTlv, type EncodedAttribute } from './protocol/encode.js';

type Field = keyof SessionLimits;

/**
 * How one attribute is derived from the reply values:
 * - `field` + `scale`: an integer (`kbps × 1000` gives bits/s),
 * - `field` + `part`: the low 32 bits or the Gigawords (2^32 wraps) of a byte count,
 * - `template`: text with `{field}` placeholders (null reads as 0, vendors' "unlimited");
 *   skipped when every placeholder is null.
 */
export type ValueRule =
  { field: Field; scale?: number } | { field: Field; part: 'low32' | 'gigawords' } | { template: string };

export interface AttributeRule {
  attribute: string;
  vendor?: string;
  value: ValueRule;
}

/** Limits every NAS understands (RFC 2865/2869). */
export const COMMON_RULES: readonly AttributeRule[] = [
  { attribute: 'Session-Timeout', value: { field: 'sessionTimeout' } },
  { attribute: 'Idle-Timeout', value: { field: 'idleTimeout' } },
  { attribute: 'Acct-Interim-Interval', value: { field: 'interimInterval' } },
];

const WISPR_BANDWIDTH: readonly AttributeRule[] = [
  { vendor: 'WISPr', attribute: 'WISPr-Bandwidth-Max-Up', value: { field: 'upKbps', scale: 1000 } },
  { vendor: 'WISPr', attribute: 'WISPr-Bandwidth-Max-Down', value: { field: 'downKbps', scale: 1000 } },
];

/** Plan → vendor attributes, per dialect. Adding a NAS family means adding rows here. */
export const DIALECT_RULES: Readonly<Record<Dialect, readonly AttributeRule[]>> = {
  coovachilli: [
    ...WISPR_BANDWIDTH,
    { vendor: 'ChilliSpot', attribute: 'ChilliSpot-Max-Total-Octets', value: { field: 'bytesLeft', part: 'low32' } },
    {
      vendor: 'ChilliSpot',
      attribute: 'ChilliSpot-Max-Total-Gigawords',
      value: { field: 'bytesLeft', part: 'gigawords' },
    },
  ],
  mikrotik: [
    { vendor: 'Mikrotik', attribute: 'Mikrotik-Rate-Limit', value: { template: '{upKbps}k/{downKbps}k' } },
    { vendor: 'Mikrotik', attribute: 'Mikrotik-Total-Limit', value: { field: 'bytesLeft', part: 'low32' } },
    {
      vendor: 'Mikrotik',
      attribute: 'Mikrotik-Total-Limit-Gigawords',
      value: { field: 'bytesLeft', part: 'gigawords' },
    },
  ],
  generic: WISPR_BANDWIDTH,
};

/**
 * What a NAS measures a CoA's Session-Timeout and byte limits against. CoovaChilli compares them
 * with the session's whole uptime and octet counters, and MikroTik's limits are per session too, so
 * a CoA must send elapsed + remaining there; a generic NAS is told the time and bytes left now.
 */
export const COA_LIMITS_COUNT_FROM: Readonly<Record<Dialect, 'now' | 'session-start'>> = {
  coovachilli: 'session-start',
  mikrotik: 'session-start',
  generic: 'now',
};

/** How far a live session has already come, as the NAS counts it. */
export interface SessionProgress {
  elapsedSeconds: number;
  octets: number;
}

const GIGAWORD = 2 ** 32;
type Encoder = (values: SessionLimits) => EncodedAttribute | null;

function fieldsOf(rule: ValueRule): Field[] {
  if ('field' in rule) return [rule.field];
  return [...rule.template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as Field);
}

function compileRule(rule: AttributeRule): Encoder {
  const resolved = resolveAttribute(rule.attribute, rule.vendor);
  const { vendorId, type } = resolved;
  const spec = rule.value;
  if ('template' in spec) {
    const wrap = (value: Buffer): EncodedAttribute =>
      vendorId === null ? tlv(type, value) : vendorTlv(vendorId, type, value);
    const fields = fieldsOf(spec);
    return (values) => {
      if (fields.every((field) => values[field] === null)) return null;
      return wrap(Buffer.from(spec.template.replace(/\{(\w+)\}/g, (_, field: Field) => String(values[field] ?? 0))));
    };
  }
  if (resolved.dataType !== 'integer')
    throw new Error(`${rule.attribute} is ${resolved.dataType}; a numeric rule needs integer`);
  // Most replies carry the same value as the one before (a plan's rates, idle timeout, interim
  // interval), so the last encoding is reused: encoded attributes are only ever copied out.
  let lastValue = NaN;
  let lastAttribute: EncodedAttribute | null = null;
  const integer = (value: number): EncodedAttribute => {
    if (value !== lastValue || lastAttribute === null) {
      lastAttribute = vendorId === null ? integerTlv(type, value) : integerVendorTlv(vendorId, type, value);
      lastValue = value;
    }
    return lastAttribute;
  };
  if ('part' in spec) {
    return (values) => {
      const bytes = values[spec.field];
      if (bytes === null) return null;
      if (spec.part === 'low32') return integer(bytes % GIGAWORD);
      const gigawords = Math.floor(bytes / GIGAWORD);
      return gigawords > 0 ? integer(gigawords) : null;
    };
  }
  const scale = spec.scale ?? 1;
  return (values) => {
    const value = values[spec.field];
    return value === null ? null : integer(value * scale);
  };
}

export interface CompiledDialect {
  /** Every limit: for Access-Accept. */
  encode(values: SessionLimits): EncodedAttribute[];
  /**
   * Every limit that is set, for a CoA-Request to a session already under way: a throttle sets
   * only the rates, a changed plan sets its remaining time and bytes too.
   */
  encodeChange(values: SessionLimits, progress: SessionProgress): EncodedAttribute[];
}

function run(encoders: readonly Encoder[], values: SessionLimits): EncodedAttribute[] {
  const out: EncodedAttribute[] = [];
  for (const encoder of encoders) {
    const attribute = encoder(values);
    if (attribute) out.push(attribute);
  }
  return out;
}

/** Resolves every rule against the dictionaries once, at start; an unknown name fails here. */
export function compileDialects(
  rules: Readonly<Record<Dialect, readonly AttributeRule[]>> = DIALECT_RULES,
): Record<Dialect, CompiledDialect> {
  const common = COMMON_RULES.map(compileRule);
  const out = {} as Record<Dialect, CompiledDialect>;
  for (const [dialect, list] of Object.entries(rules) as Array<[Dialect, readonly AttributeRule[]]>) {
    const all = [...common, ...list.map(compileRule)];
    const fromStart = COA_LIMITS_COUNT_FROM[dialect] === 'session-start';
    out[dialect] = {
      encode: (values) => run(all, values),
      encodeChange: (values, progress) =>
        run(
          all,
          fromStart
            ? {
                ...values,
                sessionTimeout:
                  values.sessionTimeout === null ? null : values.sessionTimeout + Math.max(0, progress.elapsedSeconds),
                bytesLeft: values.bytesLeft === null ? null : values.bytesLeft + Math.max(0, progress.octets),
              }
            : values,
        ),
    };
  }
  return out;
}
