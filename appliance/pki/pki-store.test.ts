import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PKI_FILES, initPki, rotatePki } from './pki-store.js';

describe('provisioner PKI (turnpike init / rotate)', () => {
  let dir: string;
  const read = (f: string): Promise<string> => readFile(join(dir, f), 'utf8');

  before(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'tp-pki-')), 'pki');
    await initPki({ dir, serverNames: ['gw1.example.net', '192.0.2.5'] });
  });

  after(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('writes every file 0600 into a 0700 directory', async () => {
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const f of Object.values(PKI_FILES)) assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f);
  });

  it('issues a server certificate for loopback and the configured names, and a client certificate, both from the CA', async () => {
    const ca = new X509Certificate(await read(PKI_FILES.caCert));
    const server = new X509Certificate(await read(PKI_FILES.serverCert));
    const client = new X509Certificate(await read(PKI_FILES.clientCert));
    assert.ok(ca.ca);
    assert.ok(server.verify(ca.publicKey) && server.checkIssued(ca));
    assert.ok(client.verify(ca.publicKey) && client.checkIssued(ca));
    for (const name of [
      'DNS:turnpike-provisioner',
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'DNS:gw1.example.net',
      'IP Address:192.0.2.5',
    ]) {
      assert.ok(server.subjectAltName?.includes(name), name);
    }
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.match(client.subject, /turnpike-appliance/);
    assert.match(await read(PKI_FILES.jwtPublic), /BEGIN PUBLIC KEY/);
  });

  it('init twice changes nothing', async () => {
    const before = await Promise.all(Object.values(PKI_FILES).map(read));
    await initPki({ dir });
    assert.deepEqual(await Promise.all(Object.values(PKI_FILES).map(read)), before);
  });

  it('rotate re-issues the leaves under the same CA; rotate --ca --jwt replaces those too', async () => {
    const ca = await read(PKI_FILES.caCert);
    const server = await read(PKI_FILES.serverCert);
    const jwt = await read(PKI_FILES.jwtPrivate);
    await rotatePki({ dir });
    assert.equal(await read(PKI_FILES.caCert), ca);
    assert.notEqual(await read(PKI_FILES.serverCert), server);
    const reissued = new X509Certificate(await read(PKI_FILES.serverCert));
    assert.ok(reissued.checkIssued(new X509Certificate(ca)));
    assert.ok(reissued.subjectAltName?.includes('DNS:gw1.example.net'), 'configured names survive a rotation');
    await rotatePki({ dir, ca: true, jwt: true });
    assert.notEqual(await read(PKI_FILES.caCert), ca);
    assert.notEqual(await read(PKI_FILES.jwtPrivate), jwt);
    const newCa = new X509Certificate(await read(PKI_FILES.caCert));
    assert.ok(new X509Certificate(await read(PKI_FILES.clientCert)).checkIssued(newCa));
  });
});
