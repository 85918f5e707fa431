import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseFrame } from './framing.js';

/** The parts of the `radius` package (1.1.4) Turnpike uses: dictionaries and general decoding. */
interface RadiusPackage {
  add_dictionary(file: string): void;
  load_dictionaries(): void;
  decode_without_secret(args: { packet: Buffer }): {
    code: string;
    identifier: number;
    attributes: Record<string, unknown>;
  };
  attr_name_to_id(name: string, vendorId?: number | string): string | undefined;
  vendor_name_to_id(name: string): string | undefined;
  _attr_to(name: string, vendorId: number | string, target: number): string | undefined;
}

const ATTR_TYPE_INDEX = 2;
const NO_VENDOR = -1;

export const VENDOR_DICTIONARIES = ['wispr', 'chillispot', 'mikrotik', 'microsoft'].map((name) =>
  fileURLToPath(new URL(`../dictionaries/dictionary.${name}`, import.meta.url)),
);

const radius = createRequire(import.meta.url)('radius') as RadiusPackage;
for (const file of VENDOR_DICTIONARIES) radius.add_dictionary(file);
radius.load_dictionaries();

export interface ResolvedAttribute {
  name: string;
  vendorId: number | null;
  type: number;
  /** Dictionary data type: integer, string, ipaddr, octets, … */
  dataType: string;
}

/** Looks an attribute up by name in the loaded dictionaries; throws on an unknown name. */
export function resolveAttribute(name: string, vendor?: string): ResolvedAttribute {
  const vendorKey = vendor === undefined ? NO_VENDOR : radius.vendor_name_to_id(vendor);
  if (vendorKey === undefined) throw new Error(`unknown RADIUS vendor ${vendor}`);
  const id = radius.attr_name_to_id(name, vendorKey);
  const dataType = radius._attr_to(name, vendorKey, ATTR_TYPE_INDEX);
  if (id === undefined || dataType === undefined)
    throw new Error(`unknown RADIUS attribute ${name}${vendor ? ` (${vendor})` : ''}`);
  return { name, vendorId: vendor === undefined ? null : Number(vendorKey), type: Number(id), dataType };
}

export interface DecodedPacket {
  code: string;
  identifier: number;
  attributes: Record<string, unknown>;
}

/**
 * General decoding by the `radius` package, for logs, CoA replies and tests. Framing is checked
 * by us first (the package accepts truncated attributes), and any decoder exception becomes null.
 */
export function decodePacket(packet: Buffer): DecodedPacket | null {
  const frame = parseFrame(packet);
  if (typeof frame === 'string') return null;
  try {
    const decoded = radius.decode_without_secret({ packet: Buffer.from(frame.packet) });
    return { code: decoded.code, identifier: decoded.identifier, attributes: decoded.attributes };
  } catch {
    return null;
  }
}
