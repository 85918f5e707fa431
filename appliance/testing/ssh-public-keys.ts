import { generateKeyPairSync, randomBytes } from 'node:crypto';

/**
 * OpenSSH public key lines built with node:crypto, so key tests need no
 * ssh-keygen: the wire format is RFC 4253 §6.6 strings and mpints.
 */

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function mpint(b: Buffer): Buffer {
  return sshString((b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function line(type: string, fields: Buffer[], comment: string): string {
  const blob = Buffer.concat([sshString(Buffer.from(type)), ...fields]).toString('base64');
  return comment ? `${type} ${blob} ${comment}` : `${type} ${blob}`;
}

export function ed25519KeyLine(comment = 'guest@phone'): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return line('ssh-ed25519', [sshString(Buffer.from(jwk.x!, 'base64url'))], comment);
}

export function rsaKeyLine(bits: number, comment = 'guest@laptop'): string {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  return line('ssh-rsa', [mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url'))], comment);
}

/** A well-formed `ssh-dss` line (p, q, g, y); the numbers are random because only the type is judged. */
export function dsaKeyLine(comment = 'old@box'): string {
  return line(
    'ssh-dss',
    [mpint(randomBytes(128)), mpint(randomBytes(20)), mpint(randomBytes(128)), mpint(randomBytes(128))],
    comment,
  );
}
