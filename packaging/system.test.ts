/**
 * The package under a real systemd: booted as PID 1 in a root of its own (see
 * testing/boot-system-root.sh — an overlay of / with private /tmp, /var/tmp, /run
 * and network, so the host's /tmp and ports are never touched), then installed,
 * started, used over HTTP and RADIUS, stopped, upgraded with live state, removed
 * and purged, as an installer would.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { LATEST_SCHEMA_VERSION } from '../appliance/store/migrations.js';
import { requireSystem } from '../appliance/testing/system-tools.js';
import { compile, packageDeb, withOneMoreMigration } from './testing/debs.js';
import { SystemRoot } from './testing/system-root.js';

const TOOLS = ['dpkg-deb', 'npm', 'unshare', 'nsenter', 'pivot_root', 'systemctl', 'radclient', 'curl', 'ip'];
/** Inside the root's own network namespace; 424xx all the same, as if it were the host's. */
const PORTAL = 42480;
const AUTH = 42481;
const ACCT = 42482;
const PROVISIONER = 42483;
/** An OTLP/HTTP sink inside the root: both daemons' spans go there once telemetry.env names it. */
const OTLP_SINK = 27484;
const OTLP_BODIES = '/root/otlp-bodies';
const SECRET = 'testing123';
/** systemd-analyze security --offline scores of the shipped units (systemd/units.test.ts prints them). */
const EXPOSURE: Record<string, number> = { 'turnpike.service': 1.4, 'turnpike-provisioner.service': 2.6 };
const UNITS = ['turnpike-provisioner.service', 'turnpike.service'];

interface StoreCopy {
  schemaVersion: number;
  users: Record<string, { email: string }>;
  vouchers: Record<string, { uses: number }>;
  sessions: Record<string, { acctSessionId?: string }>;
}

describe('the .deb under a booted systemd', { timeout: 1_800_000 }, () => {
  let scratch = '';
  let v1 = '';
  let v2 = '';
  let v2Schema = 0;
  let box: SystemRoot | null = null;
  let ready = false;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'turnpike-system-'));
  });
  after(async () => {
    await box?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** The steps below build on each other: each needs the previous ones to have passed. */
  function needsBox(t: TestContext): SystemRoot | null {
    if (!requireSystem(t, { tools: TOOLS, root: true })) return null;
    assert.ok(box && ready, 'an earlier step failed');
    return box;
  }

  const sh = (root: SystemRoot, script: string): Promise<string> => root.ok(['sh', '-c', script]);
  const show = async (root: SystemRoot, unit: string, property: string): Promise<string> =>
    (await root.ok(['systemctl', 'show', unit, '--value', '-p', property])).trim();

  async function waitHealthy(root: SystemRoot, port = PORTAL): Promise<void> {
    await root.ok(
      ['curl', '-fsS', '--retry', '60', '--retry-delay', '1', '--retry-all-errors', `http://127.0.0.1:${port}/healthz`],
      { timeoutMs: 120_000 },
    );
  }

  async function radius(root: SystemRoot, port: number, type: 'auth' | 'acct', body: string): Promise<string> {
    const result = await root.exec(['radclient', '-x', '-r', '3', '-t', '2', `127.0.0.1:${port}`, type, SECRET], {
      input: body,
    });
    return result.stdout + result.stderr;
  }

  /** A consistent copy of the store, taken the supported way (`turnpike backup`), with the appliance stopped. */
  async function storeCopy(root: SystemRoot): Promise<StoreCopy> {
    await root.ok(['systemctl', 'stop', 'turnpike.service']);
    await root.ok(['turnpike', 'backup', '/root/store-copy.json']);
    const copy = JSON.parse(await root.readFile('/root/store-copy.json')) as StoreCopy;
    // On a quick machine the subtests before this one start the unit more often than systemd's
    // start limit allows (5 in 10 s): the counter is the test's doing, not the appliance's.
    await root.ok(['systemctl', 'reset-failed', 'turnpike.service']);
    await root.ok(['systemctl', 'start', 'turnpike.service']);
    await waitHealthy(root);
    return copy;
  }

  it('boots systemd in an overlay root whose /tmp is not the host /tmp', async (t) => {
    if (!requireSystem(t, { tools: TOOLS, root: true })) return;
    const build = join(scratch, 'build');
    await compile(build);
    v1 = await packageDeb(build, '1.0.0', scratch);
    v2Schema = await withOneMoreMigration(build, join(scratch, 'build-2'), LATEST_SCHEMA_VERSION);
    v2 = await packageDeb(join(scratch, 'build-2'), '1.1.0', scratch);

    box = await SystemRoot.boot(scratch, [v1, v2]);
    assert.equal((await box.ok(['cat', '/proc/1/comm'])).trim(), 'systemd', 'systemd is PID 1 inside');
    const inside = await box.exec(['test', '-e', box.marker]);
    assert.notEqual(inside.code, 0, "the host's /tmp marker is invisible inside");
    assert.match(await box.ok(['findmnt', '-no', 'FSTYPE', '/tmp']), /tmpfs/);
    assert.match(await box.ok(['findmnt', '-no', 'FSTYPE', '/']), /overlay/);
    ready = true;
  });

  it('installs: turnpike user, init on first install with the one-time password in a root-only file, units started', async (t) => {
    const root = needsBox(t);
    if (!root) return;
    const installed = await root.ok(['dpkg', '-i', `/opt/turnpike-test/${basename(v1)}`], { timeoutMs: 300_000 });
    assert.match(installed, /one-time password is in \/etc\/turnpike\/first-admin-password/);
    assert.doesNotMatch(installed, /one-time password \(shown once\)/, 'the password itself is not in the dpkg log');
    assert.match(await root.readFile('/etc/turnpike/first-admin-password'), /one-time password/);
    assert.equal((await sh(root, 'stat -c %a:%U /etc/turnpike/first-admin-password')).trim(), '600:root');
    assert.match(await root.ok(['getent', 'passwd', 'turnpike']), /:\/var\/lib\/turnpike:\/usr\/sbin\/nologin$/m);
    assert.equal((await sh(root, 'stat -c %a:%U /var/lib/turnpike')).trim(), '700:turnpike');
    for (const unit of UNITS) {
      assert.equal(await show(root, unit, 'UnitFileState'), 'enabled', unit);
      assert.equal(await show(root, unit, 'ActiveState'), 'active', unit);
    }
  });

  it('the turnpike command on PATH is the package alone: node on compiled JavaScript, no tsx, esbuild or TypeScript', async (t) => {
    const root = needsBox(t);
    if (!root) return;
    assert.equal((await sh(root, 'command -v turnpike')).trim(), '/usr/bin/turnpike');
    assert.match(await root.ok(['turnpike', 'help']), /turnpike — captive-portal access gateway/);
    for (const dev of ['tsx', 'esbuild', '@esbuild', 'typescript', '.bin/tsc']) {
      assert.notEqual((await root.exec(['test', '-e', `/usr/lib/turnpike/node_modules/${dev}`])).code, 0, dev);
    }
    for (const unit of UNITS) {
      const exec = await show(root, unit, 'ExecStart');
      assert.match(exec, /path=\/usr\/bin\/node ;/, `${unit} runs node itself`);
      assert.doesNotMatch(exec, /tsx|\.ts\b/, `${unit} runs no TypeScript`);
    }
    await root.ok(['test', '-f', '/usr/share/turnpike/observability/grafana/turnpike-overview.json']);
    await root.ok(['test', '-f', '/usr/share/turnpike/observability/prometheus/turnpike-rules.yml']);
  });

  it('runs on the configured ports: the portal answers, the provisioner is reached over mTLS, RADIUS accepts', async (t) => {
    const root = needsBox(t);
    if (!root) return;
    // Tracing for both units from the one file they read: a sink in the root receives the spans.
    const sink =
      `const { appendFileSync } = require('node:fs');` +
      `require('node:http').createServer((q, s) => { const b = []; q.on('data', (c) => b.push(c));` +
      ` q.on('end', () => { appendFileSync('${OTLP_BODIES}', Buffer.concat(b).toString() + '\\n'); s.setHeader('content-type', 'application/json'); s.end('{}'); }); })` +
      `.listen(${OTLP_SINK}, '127.0.0.1');`;
    await root.ok(['systemd-run', '--unit', 'otlp-sink', '/usr/bin/node', '-e', sink]);
    await root.writeFile(
      '/etc/turnpike/telemetry.env',
      `${await root.readFile('/etc/turnpike/telemetry.env')}TURNPIKE_TELEMETRY_OTLP_ENDPOINT=http://127.0.0.1:${OTLP_SINK}/v1/traces\n`,
    );
    // Operator edits, both of which the upgrade must keep: a conffile and the generated config.
    const env = await root.readFile('/etc/turnpike/provisioner.env');
    await root.writeFile(
      '/etc/turnpike/provisioner.env',
      env.replace('--listen 127.0.0.1:50051', `--listen 127.0.0.1:${PROVISIONER}`),
    );
    const config = JSON.parse(await root.readFile('/etc/turnpike/turnpike.json')) as Record<string, unknown>;
    Object.assign(config, {
      portal: { ...(config.portal as object), host: '0.0.0.0', port: PORTAL },
      radius: { listen: ['127.0.0.1'], authPort: AUTH, acctPort: ACCT, rejectDelayMs: 0 },
      provisioner: { targets: [{ site: 'box', address: `127.0.0.1:${PROVISIONER}` }] },
    });
    await root.writeFile('/etc/turnpike/turnpike.json', `${JSON.stringify(config, null, 2)}\n`);
    await root.ok(['systemctl', 'restart', ...UNITS]);
    await waitHealthy(root);
    await root.ok(
      [
        'curl',
        '-fsS',
        '--retry',
        '30',
        '--retry-delay',
        '1',
        '--retry-all-errors',
        `http://127.0.0.1:${PORTAL}/readyz`,
      ],
      { timeoutMs: 60_000 },
    );
    const landing = await root.ok(['curl', '-fsSL', `http://127.0.0.1:${PORTAL}/`]);
    assert.match(landing, /<html/i, 'the captive page renders (views and CSS shipped)');

    const main = await show(root, 'turnpike.service', 'MainPID');
    const status = await root.readFile(`/proc/${main}/status`);
    assert.match(status, /^Uid:\s+(\d+)/m);
    assert.equal(
      (await sh(root, `ps -o user= -p ${main}`)).trim(),
      'turnpike',
      'the appliance runs as the turnpike user',
    );
    assert.match(status, /^CapEff:\s+0000000000000400$/m, 'its only capability is CAP_NET_BIND_SERVICE');

    await root.ok(['turnpike', 'nas', 'add', 'test-nas', '127.0.0.1', '--secret', SECRET]);
    await root.ok(['turnpike', 'plan', 'seed-demo']);
    const vouchers = await root.ok(['turnpike', 'voucher', 'create', '--plan', 'One hour', '--count', '2']);
    const code = vouchers
      .split('\n')
      .find((line) => line && !line.startsWith('#'))
      ?.trim();
    assert.ok(code, vouchers);
    await root.ok(['turnpike', 'user', 'add', 'guest@example.org']);

    const accept = await radius(
      root,
      AUTH,
      'auth',
      `User-Name = "${code}"\nUser-Password = "${code}"\nCalling-Station-Id = "02-00-00-00-00-01"\nMessage-Authenticator = 0x00\n`,
    );
    assert.match(accept, /Received Access-Accept/, accept);
    const klass = /Class = (0x[0-9a-f]+)/.exec(accept)?.[1];
    assert.ok(klass, accept);
    const start = await radius(
      root,
      ACCT,
      'acct',
      `Acct-Status-Type = Start\nAcct-Session-Id = "upgrade-1"\nUser-Name = "${code}"\nClass = ${klass}\nCalling-Station-Id = "02-00-00-00-00-01"\nFramed-IP-Address = 10.1.0.9\n`,
    );
    assert.match(start, /Received Accounting-Response/, start);

    // Both daemons trace: the appliance's RADIUS spans and the provisioner's gRPC spans (the
    // reconcile loop calls it at start) reach the sink, each under its service name.
    for (const service of ['turnpike', 'turnpike-provisioner']) {
      await sh(
        root,
        `for i in $(seq 1 60); do grep -qF '"stringValue":"${service}"' ${OTLP_BODIES} 2>/dev/null && exit 0; sleep 0.5; done; exit 1`,
      ).catch(() => assert.fail(`no span of service.name ${service} reached the OTLP sink`));
    }
  });

  it('stops cleanly; the CLI run by root leaves the state to the service; sandbox scores hold', async (t) => {
    const root = needsBox(t);
    if (!root) return;
    await root.ok(['systemctl', 'stop', 'turnpike.service', 'turnpike-provisioner.service']);
    for (const unit of UNITS) {
      assert.equal(await show(root, unit, 'Result'), 'success', `${unit} stopped by itself, not killed`);
      assert.equal(await show(root, unit, 'ActiveState'), 'inactive', unit);
    }
    // An operator's `sudo turnpike …` with the appliance stopped opens the store itself:
    // what it writes must stay the service's, or the next start could not read it.
    assert.match(await root.ok(['turnpike', 'voucher', 'create', '--plan', 'One hour', '--count', '1']), /batch/);
    assert.equal(
      await sh(root, 'find /var/lib/turnpike ! -user turnpike'),
      '',
      'nothing in the state directory is root-owned',
    );
    await root.ok(['systemctl', 'start', ...UNITS]);
    await waitHealthy(root);
    for (const [unit, score] of Object.entries(EXPOSURE)) {
      const out = await root.ok(['systemd-analyze', 'security', unit]);
      const found = Number(/Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out)?.[1]);
      assert.ok(found <= score, `${unit}: ${found} > ${score}`);
    }
  });

  it('binds the privileged ports (80, 1812/1813) with CAP_NET_BIND_SERVICE alone', async (t) => {
    const root = needsBox(t);
    if (!root) return;
    // The root has its own network namespace: these ports are its own, not the host's.
    const original = await root.readFile('/etc/turnpike/turnpike.json');
    const config = JSON.parse(original) as { portal: object; radius: object };
    config.portal = { ...config.portal, port: 80 };
    config.radius = { ...config.radius, authPort: 1812, acctPort: 1813 };
    await root.writeFile('/etc/turnpike/turnpike.json', `${JSON.stringify(config, null, 2)}\n`);
    await root.ok(['systemctl', 'restart', 'turnpike.service']);
    await waitHealthy(root, 80);
    const status = await radius(
      root,
      1812,
      'auth',
      `User-Name = "nobody"\nUser-Password = "x"\nMessage-Authenticator = 0x00\n`,
    );
    assert.match(status, /Received Access-Reject/, status);
    await root.writeFile('/etc/turnpike/turnpike.json', original);
    await root.ok(['systemctl', 'restart', 'turnpike.service']);
    await waitHealthy(root);
  });

  it('upgrades with live state: backup first, migrations run, data and config edits kept, units restarted', async (t) => {
    const root = needsBox(t);
    if (!root) return;
    const before = await storeCopy(root);
    assert.equal(before.schemaVersion, LATEST_SCHEMA_VERSION);
    const invocations = await Promise.all(UNITS.map((unit) => show(root, unit, 'InvocationID')));
    const env = await root.readFile('/etc/turnpike/provisioner.env');
    const config = await root.readFile('/etc/turnpike/turnpike.json');

    const upgraded = await root.ok(['dpkg', '--force-confold', '-i', `/opt/turnpike-test/${basename(v2)}`], {
      timeoutMs: 300_000,
    });
    assert.match(upgraded, /store backed up to \/var\/backups\/turnpike\/turnpike-1\.0\.0-\S+\.json/);
    assert.doesNotMatch(upgraded, /initialised/, 'init runs on first install only');
    assert.match(await root.ok(['dpkg-query', '-W', 'turnpike']), /turnpike\s+1\.1\.0/);
    for (const [i, unit] of UNITS.entries()) {
      assert.equal(await show(root, unit, 'ActiveState'), 'active', unit);
      assert.notEqual(await show(root, unit, 'InvocationID'), invocations[i], `${unit} was restarted`);
    }
    await waitHealthy(root);
    assert.equal(await root.readFile('/etc/turnpike/provisioner.env'), env, 'conffile edit kept');
    assert.equal(await root.readFile('/etc/turnpike/turnpike.json'), config, 'configuration kept');

    const backups = (await root.ok(['ls', '/var/backups/turnpike'])).trim().split('\n');
    assert.equal(backups.length, 1);
    const backup = JSON.parse(await root.readFile(`/var/backups/turnpike/${backups[0]}`)) as StoreCopy;
    assert.equal(backup.schemaVersion, LATEST_SCHEMA_VERSION, 'the backup holds the store as it was');

    const after = await storeCopy(root);
    assert.equal(after.schemaVersion, v2Schema, 'the new version migrated the store');
    assert.deepEqual(
      Object.values(after.users)
        .map((u) => u.email)
        .sort(),
      Object.values(before.users)
        .map((u) => u.email)
        .sort(),
    );
    assert.ok(Object.values(after.users).some((u) => u.email === 'guest@example.org'));
    assert.deepEqual(after.vouchers, before.vouchers);
    assert.ok(
      Object.values(after.sessions).some((s) => s.acctSessionId === 'upgrade-1'),
      'the live session is there',
    );
  });

  it('remove keeps configuration and state; purge removes them and the users', async (t) => {
    const root = needsBox(t);
    if (!root) return;
    await root.ok(['dpkg', '-r', 'turnpike'], { timeoutMs: 300_000 });
    for (const unit of UNITS) {
      assert.notEqual(await show(root, unit, 'ActiveState'), 'active', `${unit} stopped`);
    }
    assert.notEqual((await root.exec(['test', '-e', '/usr/lib/turnpike'])).code, 0, 'code removed');
    await root.ok(['test', '-e', '/etc/turnpike/turnpike.json']);
    await root.ok(['test', '-d', '/var/lib/turnpike']);
    await root.ok(['getent', 'passwd', 'turnpike']);

    await root.ok(['dpkg', '-P', 'turnpike'], { timeoutMs: 300_000 });
    for (const path of ['/etc/turnpike', '/var/lib/turnpike', '/var/backups/turnpike', '/srv/turnpike']) {
      assert.notEqual((await root.exec(['test', '-e', path])).code, 0, `${path} purged`);
    }
    assert.notEqual((await root.exec(['getent', 'passwd', 'turnpike'])).code, 0, 'the turnpike user is gone');
  });
});
