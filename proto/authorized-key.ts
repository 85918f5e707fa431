import { createHash } from 'node:crypto';

/**
 * The one parser of OpenSSH public key lines, shared by the provisioner (which
 * re-validates every key it writes) and the appliance (which validates what a
 * guest pastes). Hand-written and free of project imports, so both sides may
 * depend on it; `proto/gen/` stays generated-only.
 */

export type ParsedAuthorizedKey =
  | {
      ok: true;
      /** `type base64 [comment]`, single spaces, no options prefix. */
      line: string;
      type: string;
      comment: string;
      /** OpenSSH style: `SHA256:` and the unpadded base64 SHA-256 of the key blob. */
      fingerprint: string;
    }
  | { ok: false; reason: string };

export const AUTHORIZED_KEY_TYPES: ReadonlySet<string> = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export const MIN_RSA_BITS = 2048;

const KEY_COMMENT = /^[A-Za-z0-9@._+-]{0,100}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_KEY_DATA = 8192;

/** Reads the SSH wire strings of a public key blob (RFC 4253 §6.6). */
function sshStrings(blob: Buffer, count: number): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) return undefined;
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

function mpintBits(mpint: Buffer): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i] ?? 0));
}

function refuse(reason: string): ParsedAuthorizedKey {
  return { ok: false, reason };
}

/** An OpenSSH public key line `type base64 [comment]`; no options, no DSA, RSA ≥ 2048 bits. */
export function parseAuthorizedKey(line: string): ParsedAuthorizedKey {
  const parts = line.trim().split(/ +/);
  if (parts.length < 2 || parts.length > 3) return refuse('must be "type base64 [comment]"');
  const [type = '', data = '', comment = ''] = parts;
  if (type === 'ssh-dss') return refuse('DSA keys are not accepted');
  if (!AUTHORIZED_KEY_TYPES.has(type)) return refuse(`key type ${JSON.stringify(type.slice(0, 40))} is not accepted`);
  if (!BASE64.test(data) || data.length > MAX_KEY_DATA) return refuse('key data is not base64');
  if (!KEY_COMMENT.test(comment)) return refuse('comment may hold only [A-Za-z0-9@._+-]');
  const blob = Buffer.from(data, 'base64');
  const [embedded] = sshStrings(blob, 1) ?? [];
  if (embedded?.toString('latin1') !== type) return refuse('key data does not match its type');
  if (type === 'ssh-rsa') {
    const modulus = sshStrings(blob, 3)?.[2];
    if (!modulus || mpintBits(modulus) < MIN_RSA_BITS) return refuse(`RSA keys need at least ${MIN_RSA_BITS} bits`);
  }
  return {
    ok: true,
    line: comment ? `${type} ${data} ${comment}` : `${type} ${data}`,
    type,
    comment,
    fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
  };
}
