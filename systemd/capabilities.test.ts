import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { requireSystem } from '../appliance/testing/system-tools.js';
import type { AccountSpec } from '../provisioner/drivers/driver.js';
import {
  HostFixture,
  setprivArgs,
  TOOLS,
  tryRun,
  unitBoundingSet,
} from '../provisioner/drivers/testing/host-fixture.js';

const CHILD = fileURLToPath(new URL('../provisioner/drivers/testing/lifecycle-child.ts', import.meta.url));

test('the account driver does its whole job with exactly the provisioner unit capability set', async (t) => {
  if (!requireSystem(t, { tools: [...TOOLS, 'setpriv'], root: true })) return;
  const host = await HostFixture.create();
  t.after(() => host.cleanup());
  const options = JSON.stringify({
    group: host.group,
    sshGroup: host.sshGroup,
    homeRoot: join(host.root, 'home'),
    keysDir: host.keysDir,
    ftp: host.ftpPaths,
  });
  await tryRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(host.root, 'k')]);
  const key = (await readFile(join(host.root, 'k.pub'), 'utf8')).trim();
  const stepUnder = (caps: string[], step: string, spec: AccountSpec) => {
    const [file = 'setpriv', ...args] = setprivArgs(caps);
    return tryRun(file, [...args, process.execPath, '--import', 'tsx', CHILD, options, step, JSON.stringify(spec)]);
  };
  const lifecycle = async (caps: string[], name: string): Promise<string | undefined> => {
    const spec: AccountSpec = {
      login: host.login(name),
      passwordHash: bcrypt.hashSync('capability-test', 4),
      authorizedKeys: [key],
      services: ['ssh', 'ftp'],
      expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      ftpQuotaBytes: 1 << 20,
    };
    const ensured = await stepUnder(caps, 'ensure', spec);
    if (ensured.code !== 0) return `ensure: ${ensured.stderr}`;
    const uid = Number((await tryRun('id', ['-u', spec.login])).stdout);
    const gid = Number((await tryRun('id', ['-g', spec.login])).stdout);
    await tryRun('install', [
      '-o',
      String(uid),
      '-m',
      '0600',
      '/dev/null',
      join(host.ftpPaths.root, spec.login, 'files', 'x'),
    ]);
    const session = spawn('sleep', ['60'], { uid, gid, stdio: 'ignore' });
    const ended = new Promise((resolve) => session.once('exit', resolve));
    const usage = await stepUnder(caps, 'usage', spec);
    if (usage.code !== 0) return `usage: ${usage.stderr}`;
    const suspended = await stepUnder(caps, 'suspend', spec);
    if (suspended.code !== 0) {
      session.kill('SIGKILL');
      return `suspend: ${suspended.stderr}`;
    }
    await ended;
    const deleted = await stepUnder(caps, 'delete', spec);
    if (deleted.code !== 0) return `delete: ${deleted.stderr}`;
    return undefined;
  };

  const caps = await unitBoundingSet('turnpike-provisioner.service');
  assert.equal(await lifecycle(caps, 'full'), undefined);
  await assert.rejects(stat(join(host.root, 'home', host.login('full'))), { code: 'ENOENT' });

  // Each account capability is needed: without it some step of the lifecycle fails.
  for (const cap of caps.filter((c) => c !== 'CAP_NET_ADMIN')) {
    const failure = await lifecycle(
      caps.filter((c) => c !== cap),
      `no-${cap.slice(4, 8).toLowerCase()}`,
    );
    console.log(`without ${cap}: ${failure?.split('\n')[0] ?? 'no failure'}`);
    assert.ok(failure !== undefined, `${cap} is in the bounding set but nothing needed it`);
  }
});
