import { X509Certificate, generateKeyPairSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../shared/clock.js';
import { createCa, issueLeaf, notAfterOf, type IssuedPem } from './certificates.js';

/**
 * The appliance's own PKI for the provisioner link, in one 0700 directory with
 * every file 0600:
 *   ca.pem ca-key.pem            the appliance's private CA (trusted by both ends)
 *   server.pem server-key.pem    the provisioner's certificate
 *   client.pem client-key.pem    the appliance's client certificate
 *   jwt-private.pem              Ed25519 key the appliance signs call tokens with
 *   jwt-public.pem               what the provisioner verifies them with
 */
export const PKI_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
  jwtPrivate: 'jwt-private.pem',
  jwtPublic: 'jwt-public.pem',
} as const;

export interface PkiOptions {
  dir: string;
  /** Extra subjectAltNames for the server certificate (host names or IPs of the provisioner). */
  serverNames?: string[];
  clock?: Clock;
  caDays?: number;
  leafDays?: number;
}

export interface RotateOptions extends PkiOptions {
  /** Also replace the CA (both ends must receive the new ca.pem before they reconnect). */
  ca?: boolean;
  /** Also replace the JWT key pair. */
  jwt?: boolean;
}

/** `turnpike-provisioner` is the name clients verify (see provisioner-client.ts); the rest help tools like grpcurl. */
export const PROVISIONER_TLS_NAME = 'turnpike-provisioner';
const BASE_SERVER_NAMES = [PROVISIONER_TLS_NAME, 'localhost', '127.0.0.1', '::1'];

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

async function readPair(dir: string, cert: string, key: string): Promise<IssuedPem> {
  return { cert: await readFile(join(dir, cert), 'utf8'), key: await readFile(join(dir, key), 'utf8') };
}

/** The names on the current server certificate, so a re-issue without `serverNames` keeps them. */
async function currentServerNames(dir: string): Promise<string[]> {
  try {
    const san = new X509Certificate(await readFile(join(dir, PKI_FILES.serverCert))).subjectAltName ?? '';
    return san
      .split(', ')
      .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
      .filter(Boolean);
  } catch {
    return [];
  }
}

async function issueLeaves(o: PkiOptions, ca: IssuedPem): Promise<void> {
  const now = (o.clock ?? systemClock).now();
  const names = o.serverNames ?? (await currentServerNames(o.dir));
  const days = o.leafDays ?? 397;
  const server = issueLeaf({
    ca,
    commonName: 'turnpike-provisioner',
    altNames: [...new Set([...BASE_SERVER_NAMES, ...names])],
    usage: 'server',
    now,
    days,
  });
  const client = issueLeaf({ ca, commonName: 'turnpike-appliance', usage: 'client', now, days });
  await writePrivate(join(o.dir, PKI_FILES.serverKey), server.key);
  await writePrivate(join(o.dir, PKI_FILES.serverCert), server.cert);
  await writePrivate(join(o.dir, PKI_FILES.clientKey), client.key);
  await writePrivate(join(o.dir, PKI_FILES.clientCert), client.cert);
}

async function writeJwtKeys(dir: string): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await writePrivate(join(dir, PKI_FILES.jwtPrivate), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  await writePrivate(join(dir, PKI_FILES.jwtPublic), publicKey.export({ type: 'spki', format: 'pem' }).toString());
}

/**
 * `turnpike init`: creates whatever is missing and leaves existing material
 * alone, so running it twice changes nothing. Leaf certificates within 30 days
 * of expiry are re-issued from the existing CA.
 */
export async function initPki(o: PkiOptions): Promise<void> {
  await ensureDir(o.dir);
  const caPath = join(o.dir, PKI_FILES.caCert);
  if (!(await exists(caPath))) {
    const ca = createCa({
      commonName: 'Turnpike appliance CA',
      now: (o.clock ?? systemClock).now(),
      days: o.caDays ?? 3650,
    });
    await writePrivate(join(o.dir, PKI_FILES.caKey), ca.key);
    await writePrivate(caPath, ca.cert);
  }
  const ca = await readPair(o.dir, PKI_FILES.caCert, PKI_FILES.caKey);
  const serverPath = join(o.dir, PKI_FILES.serverCert);
  const leavesMissing = !(await exists(serverPath)) || !(await exists(join(o.dir, PKI_FILES.clientCert)));
  const soon = (o.clock ?? systemClock).now() + 30 * 86_400_000;
  if (leavesMissing || notAfterOf(await readFile(serverPath, 'utf8')) < soon) await issueLeaves(o, ca);
  if (!(await exists(join(o.dir, PKI_FILES.jwtPrivate)))) await writeJwtKeys(o.dir);
}

/** `turnpike pki rotate`: re-issues both leaf certificates, optionally the CA and the JWT keys. */
export async function rotatePki(o: RotateOptions): Promise<void> {
  await ensureDir(o.dir);
  if (o.ca) {
    const ca = createCa({
      commonName: 'Turnpike appliance CA',
      now: (o.clock ?? systemClock).now(),
      days: o.caDays ?? 3650,
    });
    await writePrivate(join(o.dir, PKI_FILES.caKey), ca.key);
    await writePrivate(join(o.dir, PKI_FILES.caCert), ca.cert);
  }
  await issueLeaves(o, await readPair(o.dir, PKI_FILES.caCert, PKI_FILES.caKey));
  if (o.jwt) await writeJwtKeys(o.dir);
}

export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export async function loadServerTls(dir: string): Promise<TlsMaterial> {
  return {
    ca: await readFile(join(dir, PKI_FILES.caCert)),
    cert: await readFile(join(dir, PKI_FILES.serverCert)),
    key: await readFile(join(dir, PKI_FILES.serverKey)),
  };
}

export async function loadClientTls(dir: string): Promise<TlsMaterial> {
  return {
    ca: await readFile(join(dir, PKI_FILES.caCert)),
    cert: await readFile(join(dir, PKI_FILES.clientCert)),
    key: await readFile(join(dir, PKI_FILES.clientKey)),
  };
}

export async function loadJwtSigningKey(dir: string): Promise<KeyObject> {
  return createPrivateKey(await readFile(join(dir, PKI_FILES.jwtPrivate)));
}

export async function loadJwtPublicKey(path: string): Promise<KeyObject> {
  return createPublicKey(await readFile(path));
}
