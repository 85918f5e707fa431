import { randomBytes, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type forge from 'node-forge';

/**
 * X.509 issuance with node-forge (RSA 2048; forge uses Node's native key
 * generation when it can). Pure functions over PEM text: writing the files is
 * pki-store.ts's job.
 */
export interface IssuedPem {
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;

/**
 * node-forge, loaded when a certificate is issued (init, rotation, a leaf near
 * expiry) rather than at every start, where it would hold memory for nothing.
 * It is CommonJS, so it loads synchronously and the functions here stay pure.
 */
const load = createRequire(import.meta.url);
function forgeLib(): typeof forge {
  return load('node-forge') as typeof forge;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, now: number, days: number): void {
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
}

function keyPair(): forge.pki.rsa.KeyPair {
  return forgeLib().pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
}

export function createCa(options: { commonName: string; now: number; days: number }): IssuedPem {
  const lib = forgeLib();
  const keys = keyPair();
  const cert = lib.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, options.now, options.days);
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, lib.md.sha256.create());
  return { cert: lib.pki.certificateToPem(cert), key: lib.pki.privateKeyToPem(keys.privateKey) };
}

export function issueLeaf(options: {
  ca: IssuedPem;
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName (servers). */
  altNames?: string[];
  usage: 'server' | 'client';
  now: number;
  days: number;
}): IssuedPem {
  const lib = forgeLib();
  const caCert = lib.pki.certificateFromPem(options.ca.cert);
  const caKey = lib.pki.privateKeyFromPem(options.ca.key);
  const keys = keyPair();
  const cert = lib.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, options.now, options.days);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = (options.altNames ?? []).map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: options.usage === 'server', clientAuth: options.usage === 'client' },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, lib.md.sha256.create());
  return { cert: lib.pki.certificateToPem(cert), key: lib.pki.privateKeyToPem(keys.privateKey) };
}

/** Milliseconds since the epoch at which a PEM certificate stops being valid (read at every start: no forge). */
export function notAfterOf(certPem: string): number {
  return Date.parse(new X509Certificate(certPem).validTo);
}
