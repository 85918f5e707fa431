import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { PKI_FILES, initPki } from '../pki/pki-store.js';
import { UsageError } from './command.js';
import { runPkiRotate } from './lifecycle-commands.js';

async function appliance(t: TestContext, init = true): Promise<{ loaded: LoadedConfig; dir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tp-pki-rotate-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const loaded = loadConfig({ env: {}, overrides: { dataDir } });
  const dir = join(dataDir, 'pki');
  if (init) await initPki({ dir, serverNames: ['gw1.example.net'] });
  return { loaded, dir };
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of Object.values(PKI_FILES)) files[name] = await readFile(join(dir, name), 'utf8');
  return files;
}

function changed(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before)
    .filter((name) => before[name] !== after[name])
    .sort();
}

test('turnpike pki rotate re-issues both leaves under the same CA, keeps the server names, and says to restart the provisioner', async (t) => {
  const { loaded, dir } = await appliance(t);
  const before = await snapshot(dir);
  const lines = await runPkiRotate(loaded, ['rotate']);
  const after = await snapshot(dir);
  assert.deepEqual(changed(before, after), ['client-key.pem', 'client.pem', 'server-key.pem', 'server.pem']);
  assert.equal(lines[0], `PKI in ${dir}`);
  assert.equal(lines[1], 'replaced: server.pem, server-key.pem, client.pem, client-key.pem');
  const ca = new X509Certificate(after[PKI_FILES.caCert]!);
  const server = new X509Certificate(after[PKI_FILES.serverCert]!);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'the new leaf chains to the unchanged CA');
  assert.match(server.subjectAltName ?? '', /DNS:gw1\.example\.net/);
  const text = lines.join('\n');
  assert.match(text, /restart the provisioner now, then the appliance/);
  assert.match(text, /provisioner\/README\.md/);
  for (const name of Object.values(PKI_FILES)) assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600, name);
});

test('--ca --jwt replaces everything and prints the new CA fingerprint; --jwt alone keeps the CA', async (t) => {
  const { loaded, dir } = await appliance(t);
  const before = await snapshot(dir);
  const jwtOnly = await runPkiRotate(loaded, ['rotate', '--jwt']);
  const middle = await snapshot(dir);
  assert.deepEqual(changed(before, middle), [
    'client-key.pem',
    'client.pem',
    'jwt-private.pem',
    'jwt-public.pem',
    'server-key.pem',
    'server.pem',
  ]);
  assert.match(jwtOnly.join('\n'), /copy jwt-public\.pem to every provisioner host/);

  const all = await runPkiRotate(loaded, ['rotate', '--ca', '--jwt']);
  const after = await snapshot(dir);
  assert.deepEqual(changed(middle, after), Object.values(PKI_FILES).sort());
  const ca = new X509Certificate(after[PKI_FILES.caCert]!);
  assert.ok(
    !new X509Certificate(after[PKI_FILES.serverCert]!).checkIssued(new X509Certificate(before[PKI_FILES.caCert]!)),
  );
  assert.ok(new X509Certificate(after[PKI_FILES.serverCert]!).checkIssued(ca));
  assert.equal(
    all[1],
    'replaced: ca.pem, ca-key.pem, server.pem, server-key.pem, client.pem, client-key.pem, jwt-private.pem, jwt-public.pem',
  );
  assert.ok(all.includes(`new CA fingerprint (SHA-256): ${ca.fingerprint256}`));
  assert.match(all.join('\n'), /install the new ca\.pem/);
});

test('without a CA, or with a wrong word or option, it refuses and writes nothing', async (t) => {
  const { loaded, dir } = await appliance(t, false);
  await assert.rejects(
    runPkiRotate(loaded, ['rotate']),
    (err: unknown) => err instanceof UsageError && /turnpike init/.test(err.message),
  );
  await assert.rejects(stat(dir), /ENOENT/);
  await assert.rejects(runPkiRotate(loaded, ['renew']), UsageError);
  await assert.rejects(runPkiRotate(loaded, ['rotate', '--all']), /unknown option --all/);
});
