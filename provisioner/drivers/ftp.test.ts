import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import type { AccountSpec } from './driver.js';
import { HostFixture, setprivArgs, TOOLS, tryRun, unitBoundingSet } from './testing/host-fixture.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';

const PASSWORD = 'ftp-guest-password';
/** curl's exit code when the server refuses the login (FTP 530). */
const CURL_LOGIN_DENIED = 67;

test('ftp access through a real vsftpd', async (t) => {
  if (!requireSystem(t, { tools: [...TOOLS, 'vsftpd', 'curl', 'setpriv'], root: true })) return;
  const host = await HostFixture.create();
  t.after(() => host.cleanup());
  // With the capabilities systemd/turnpike-ftp.service leaves it, and no new privileges.
  await host.startVsftpd(setprivArgs(await unitBoundingSet('turnpike-ftp.service')));
  const hash = bcrypt.hashSync(PASSWORD, 4);
  const url = (path: string) => `ftp://127.0.0.1:${host.ftpPort}/${path}`;
  const curl = (login: string, args: string[]) =>
    tryRun('curl', ['-sS', '--max-time', '20', '--user', `${login}:${PASSWORD}`, ...args]);
  const spec = (login: string, more: Partial<AccountSpec> = {}): AccountSpec => ({
    login,
    passwordHash: hash,
    authorizedKeys: [],
    services: ['ftp'],
    expiresAt: 0,
    ftpQuotaBytes: 0,
    ...more,
  });
  const upload = join(host.root, 'upload.bin');
  const payload = Buffer.alloc(5000, 'turnpike ');
  await writeFile(upload, payload);

  await t.test('an ftp account uploads and downloads inside its own chroot', async () => {
    const login = host.login('ftp');
    await host.driver.ensure(spec(login));
    const put = await curl(login, ['-T', upload, url('files/report.bin')]);
    assert.equal(put.code, 0, put.stderr);
    const get = await curl(login, ['-o', join(host.root, 'download.bin'), url('files/report.bin')]);
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual(await readFile(join(host.root, 'download.bin')), payload);
    const stored = await stat(join(host.ftpPaths.root, login, 'files', 'report.bin'));
    assert.equal(stored.size, payload.length, 'the file landed in the guest chroot on the host');
  });

  await t.test('the chroot hides the host: / holds only files/, and /etc/passwd is not there', async () => {
    const login = host.login('ftp');
    const list = await curl(login, ['--list-only', url('')]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split(/\r?\n/), ['files']);
    const escape = await curl(login, ['-o', '/dev/null', url('%2Fetc/passwd')]);
    assert.notEqual(escape.code, 0);
    const rootWrite = await curl(login, ['-T', upload, url('planted.bin')]);
    assert.notEqual(rootWrite.code, 0, 'the chroot itself is not writable');
  });

  await t.test('usage reports the bytes stored on disk', async () => {
    const usage = await host.driver.usage(host.login('ftp'));
    assert.ok(usage.ftpBytesStored >= payload.length, `stored ${usage.ftpBytesStored}`);
    assert.ok(usage.ftpBytesStored < payload.length + 3 * 4096, 'only the guest files and their directories count');
  });

  await t.test('once the quota is reached uploads are refused and downloads still work', async () => {
    const login = host.login('ftp');
    await host.driver.ensure(spec(login, { ftpQuotaBytes: 4096 }));
    const [account] = (await host.driver.state()).filter((a) => a.login === login);
    assert.equal(account?.ftpQuotaBytes, 4096);
    const put = await curl(login, ['-T', upload, url('files/more.bin')]);
    assert.notEqual(put.code, 0, 'write refused over quota');
    const get = await curl(login, ['-o', '/dev/null', url('files/report.bin')]);
    assert.equal(get.code, 0, get.stderr);
    await host.driver.ensure(spec(login, { ftpQuotaBytes: 0 }));
    assert.equal((await curl(login, ['-T', upload, url('files/more.bin')])).code, 0, 'unlimited again');
  });

  await t.test('an ssh-only account is refused by vsftpd', async () => {
    const login = host.login('sshonly');
    await host.driver.ensure(spec(login, { services: ['ssh'] }));
    const list = await curl(login, ['--list-only', url('')]);
    assert.equal(list.code, CURL_LOGIN_DENIED, list.stderr);
  });

  await t.test('a suspended account is refused with 530, and ensure lets it back in', async () => {
    const login = host.login('ftp');
    await host.driver.suspend(login);
    const refused = await curl(login, ['--list-only', url('files/')]);
    assert.equal(refused.code, CURL_LOGIN_DENIED, refused.stderr);
    assert.match(refused.stderr, /530|denied/i);
    await host.driver.ensure(spec(login));
    const back = await curl(login, ['--list-only', url('files/')]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(
      back.stdout.trim().split(/\r?\n/).sort(),
      ['more.bin', 'report.bin'],
      'files survive a suspension',
    );
  });

  await t.test('a listed account past its expiry is refused by the PAM account stage', async () => {
    const login = host.login('expired');
    await host.driver.ensure(spec(login, { expiresAt: Math.floor(Date.now() / 1000) - 60 }));
    assert.ok((await readFile(host.ftpPaths.userListFile, 'utf8')).split('\n').includes(login), 'still listed');
    assert.equal((await curl(login, ['--list-only', url('')])).code, CURL_LOGIN_DENIED);
  });

  await t.test('delete removes the chroot and the list entry', async () => {
    const login = host.login('ftp');
    await host.driver.delete(login);
    await assert.rejects(stat(join(host.ftpPaths.root, login)), { code: 'ENOENT' });
    const list = await readFile(host.ftpPaths.userListFile, 'utf8');
    assert.ok(!list.split('\n').includes(login));
    assert.equal((await curl(login, ['--list-only', url('')])).code, CURL_LOGIN_DENIED);
  });
});
