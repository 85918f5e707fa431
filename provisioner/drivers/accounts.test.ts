import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { isTurnpikeError } from '../../shared/errors.js';
import { requireSystem } from '../../appliance/testing/system-tools.js';
import type { AccountSpec } from './driver.js';
import { HostFixture, TOOLS, tryRun } from './testing/host-fixture.js';

const PASSWORD = 'correct-horse-battery';

async function shadowLine(login: string): Promise<string | undefined> {
  return (await readFile('/etc/shadow', 'utf8')).split('\n').find((l) => l.startsWith(`${login}:`));
}

async function passwdLine(login: string): Promise<string | undefined> {
  return (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${login}:`));
}

test('host accounts driver against a real sshd', async (t) => {
  if (!requireSystem(t, { tools: [...TOOLS, 'sshd', 'ssh', 'ssh-keygen', 'sshpass'], root: true })) return;
  const host = await HostFixture.create();
  t.after(() => host.cleanup());
  await host.startSshd();
  const clientKey = join(host.root, 'client_key');
  await tryRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'guest@phone', '-f', clientKey]);
  const publicKey = (await readFile(`${clientKey}.pub`, 'utf8')).trim();
  const hash = bcrypt.hashSync(PASSWORD, 4);

  const sshArgs = (login: string, extra: string[]): string[] => [
    ...['-F', '/dev/null', '-p', String(host.sshPort), '-o', 'StrictHostKeyChecking=no'],
    ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'],
    ...extra,
    `${login}@127.0.0.1`,
  ];
  const byPassword = (login: string, command = 'id -un', tty = false) =>
    tryRun(
      'sshpass',
      [
        '-e',
        'ssh',
        ...sshArgs(login, [
          ...['-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no'],
          ...['-o', 'NumberOfPasswordPrompts=1', ...(tty ? ['-tt'] : [])],
        ]),
        command,
      ],
      { SSHPASS: PASSWORD },
    );
  const byKey = (login: string, identity = clientKey) =>
    tryRun('ssh', [
      ...sshArgs(login, [
        ...['-i', identity, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'],
        ...['-o', 'PreferredAuthentications=publickey'],
      ]),
      'id -un',
    ]);
  const spec = (login: string, more: Partial<AccountSpec> = {}): AccountSpec => ({
    login,
    passwordHash: hash,
    authorizedKeys: [publicKey],
    services: ['ssh'],
    expiresAt: 0,
    ftpQuotaBytes: 0,
    ...more,
  });

  await t.test('an ensured ssh account logs in by password and by key', async () => {
    const login = host.login('alice');
    await host.driver.ensure(spec(login));
    const password = await byPassword(login);
    assert.equal(password.code, 0, `password login failed: ${password.stderr}\n${host.sshdLog()}`);
    assert.equal(password.stdout.trim(), login);
    const key = await byKey(login);
    assert.equal(key.code, 0, `key login failed: ${key.stderr}\n${host.sshdLog()}`);
    assert.equal(key.stdout.trim(), login);
    const keyFile = await stat(join(host.keysDir, login));
    assert.equal(keyFile.mode & 0o777, 0o600, 'the key file is readable by its owner only');
  });

  await t.test('a key the guest plants in its own ~/.ssh is not honoured', async () => {
    const login = host.login('alice');
    const planted = join(host.root, 'planted_key');
    await tryRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', planted]);
    const home = (await passwdLine(login))?.split(':')[5] ?? '';
    const placed = await byPassword(
      login,
      `mkdir -p ~/.ssh && chmod 700 ~/.ssh && echo '${(await readFile(`${planted}.pub`, 'utf8')).trim()}' > ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys`,
    );
    assert.equal(placed.code, 0, placed.stderr);
    assert.ok((await stat(join(home, '.ssh/authorized_keys'))).size > 0);
    const attempt = await byKey(login, planted);
    assert.equal(attempt.code, 255);
    assert.match(attempt.stderr, /Permission denied/);
  });

  await t.test('ensure twice converges and state reads the account back from the host', async () => {
    const login = host.login('alice');
    const expiresAt = Math.floor(Date.now() / 1000) + 3 * 86_400;
    await host.driver.ensure(spec(login, { expiresAt }));
    await host.driver.ensure(spec(login, { expiresAt }));
    const state = await host.driver.state();
    assert.deepEqual(state, [{ login, services: ['ssh'], suspended: false, expiresAt, ftpQuotaBytes: 0 }]);
    const expireDay = Number((await shadowLine(login))?.split(':')[7]);
    assert.equal(expireDay, Math.ceil(expiresAt / 86_400), 'shadow expiry is the midnight after expiresAt');
  });

  await t.test('usage counts interactive ssh logins from wtmp', async () => {
    const login = host.login('alice');
    const before = (await host.driver.usage(login)).sshLogins;
    const session = await byPassword(login, 'true', true);
    assert.equal(session.code, 0, session.stderr);
    const after = await host.driver.usage(login);
    assert.equal(after.sshLogins, before + 1);
    assert.equal(after.ftpBytesStored, 0);
  });

  await t.test('a suspended account can log in neither by password nor by key, and its session ends', async () => {
    const login = host.login('alice');
    const running = tryRun('sshpass', ['-e', 'ssh', ...sshArgs(login, ['-o', 'PubkeyAuthentication=no']), 'sleep 60'], {
      SSHPASS: PASSWORD,
    });
    for (let i = 0; i < 100; i += 1) {
      const procs = await tryRun('pgrep', ['-u', login, '-x', 'sleep']);
      if (procs.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const started = Date.now();
    await host.driver.suspend(login);
    const ended = await running;
    assert.notEqual(ended.code, 0, 'the running session was cut');
    assert.ok(Date.now() - started < 10_000, 'the session ended at suspension, not at its own end');
    assert.equal((await byPassword(login)).code, 255, 'password login refused');
    assert.equal((await byKey(login)).code, 255, 'key login refused');
    const [state] = await host.driver.state();
    assert.equal(state?.suspended, true);
  });

  await t.test('ensure lifts a suspension', async () => {
    const login = host.login('alice');
    await host.driver.ensure(spec(login));
    assert.equal((await byKey(login)).code, 0);
  });

  await t.test('an account past its expiry cannot log in', async () => {
    const login = host.login('late');
    await host.driver.ensure(spec(login, { expiresAt: Math.floor(Date.now() / 1000) - 60 }));
    assert.notEqual((await byKey(login)).code, 0);
  });

  await t.test('an FTP-only account cannot use ssh, even with the right password', async () => {
    const login = host.login('ftponly');
    await host.driver.ensure(spec(login, { services: ['ftp'] }));
    // 255 + "Permission denied": refused at authentication, not a nologin shell that ran and exited.
    for (const attempt of [await byPassword(login), await byKey(login)]) {
      assert.equal(attempt.code, 255);
      assert.match(attempt.stderr, /Permission denied/);
    }
  });

  await t.test('delete removes the account, its home and its keys; deleting again succeeds', async () => {
    const login = host.login('alice');
    const home = (await passwdLine(login))?.split(':')[5] ?? '';
    await host.driver.delete(login);
    await host.driver.delete(login);
    assert.equal(await passwdLine(login), undefined);
    assert.equal(await shadowLine(login), undefined);
    await assert.rejects(stat(home), { code: 'ENOENT' });
    await assert.rejects(stat(join(host.keysDir, login)), { code: 'ENOENT' });
    assert.notEqual((await byKey(login)).code, 0);
    await assert.rejects(host.driver.usage(login), (err) => isTurnpikeError(err, 'TP_ERR_NOT_FOUND'));
  });

  await t.test('root cannot be suspended, deleted or overwritten, and its shadow line stays as it was', async () => {
    const before = [await shadowLine('root'), await passwdLine('root')];
    await assert.rejects(host.driver.suspend('root'), (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'));
    await assert.rejects(host.driver.delete('root'), (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'));
    await assert.rejects(host.driver.ensure(spec('root')), (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'));
    assert.deepEqual([await shadowLine('root'), await passwdLine('root')], before);
  });

  await t.test('accounts the provisioner did not create are refused and left unchanged', async () => {
    const plain = host.login('plain');
    await host.addForeign(plain);
    // Right prefix and right group, but a uid outside the guest range: still not ours.
    await host.driver.ensure(spec(host.login('seed')));
    const outside = host.login('outside');
    await host.addForeign(outside, ['-g', host.group, '-u', '1999']);
    for (const login of [plain, outside]) {
      const before = [await shadowLine(login), await passwdLine(login)];
      const forbidden = (err: unknown) => isTurnpikeError(err, 'TP_ERR_FORBIDDEN');
      await assert.rejects(host.driver.suspend(login), forbidden);
      await assert.rejects(host.driver.delete(login), forbidden);
      await assert.rejects(host.driver.ensure(spec(login)), forbidden);
      await assert.rejects(host.driver.usage(login), forbidden);
      assert.deepEqual([await shadowLine(login), await passwdLine(login)], before);
    }
    const logins = (await host.driver.state()).map((a) => a.login);
    assert.ok(!logins.includes(plain) && !logins.includes(outside), 'state lists only its own accounts');
  });

  await t.test('logins with shell metacharacters are rejected before anything runs', async () => {
    const passwd = await readFile('/etc/passwd', 'utf8');
    for (const login of ['tp-a;id', 'tp-$(id)', 'tp-a b', 'tp-`id`', 'tp-a|id', 'tp-../x', 'tp-a\nroot', '-tp-a']) {
      await assert.rejects(host.driver.ensure(spec(login)), (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'));
      await assert.rejects(host.driver.suspend(login), (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'));
    }
    assert.equal(await readFile('/etc/passwd', 'utf8'), passwd);
  });

  await t.test('DSA and short RSA keys are refused', async () => {
    const login = host.login('keys');
    const dsa =
      'ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7';
    const rsa1024 =
      (await tryRun('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', join(host.root, 'rsa1024')]))
        .code === 0
        ? (await readFile(join(host.root, 'rsa1024.pub'), 'utf8')).trim()
        : 'ssh-rsa AAAA';
    for (const key of [dsa, rsa1024, `command="sh" ${publicKey}`]) {
      await assert.rejects(host.driver.ensure(spec(login, { authorizedKeys: [key] })), (err) =>
        isTurnpikeError(err, 'TP_ERR_VALIDATION'),
      );
    }
    assert.equal(await passwdLine(login), undefined, 'nothing was created');
  });
});
