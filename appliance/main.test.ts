import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config/load-config.js';
import { silentLogger } from '../shared/logger.js';
import { startAppliance, type RunningAppliance } from './main.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./cli/turnpike.ts', import.meta.url));

async function withEmbeddedAppliance(
  body: (appliance: RunningAppliance, ctx: { dir: string; configFile: string; lines: string[] }) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-main-'));
  const configFile = join(dir, 'turnpike.json');
  await writeFile(
    configFile,
    JSON.stringify({
      dataDir: join(dir, 'var'),
      portal: { port: 0 },
      radius: { authPort: 0, acctPort: 0 },
      telemetry: { metricsPort: 0 },
      logLevel: 'silent',
    }),
  );
  const loaded = loadConfig({ file: configFile, embedded: true, env: {} });
  const lines: string[] = [];
  const appliance = await startAppliance({
    config: loaded.config,
    configSource: loaded.source,
    embedded: true,
    adminSocket: join(dir, 'var', 'admin.sock'),
    logger: silentLogger,
    out: (line) => lines.push(line),
  });
  try {
    await body(appliance, { dir, configFile, lines });
  } finally {
    await appliance.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function turnpike(configFile: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', cli, '--config', configFile, ...args], {
    env: { ...process.env, TURNPIKE_CONFIG: '' },
  });
}

test('the embedded default serves /healthz and its printed admin password signs in and demands MFA enrolment', () =>
  withEmbeddedAppliance(async (appliance, { lines }) => {
    const health = await fetch(`${appliance.portalUrl}/healthz`);
    assert.equal(health.status, 200);
    const ready = (await (await fetch(`${appliance.portalUrl}/readyz`)).json()) as { status: string };
    assert.equal(ready.status, 'ready');
    assert.equal((await fetch(`${appliance.portalUrl}/metrics`)).status, 404, 'no metrics on the guests’ port');
    assert.match(appliance.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'metrics listen on loopback by default');
    assert.match(
      await (await fetch(`${appliance.metricsUrl}/metrics`)).text(),
      /turnpike_store_write_duration_seconds/,
    );

    const passwordLine = lines.find((line) => line.includes('One-time password'));
    assert.ok(passwordLine, `banner: ${lines.join('\n')}`);
    const password = passwordLine.split(' ').at(-1)!;
    assert.ok(
      lines.some((line) => line.includes(`${appliance.portalUrl}/admin`) && /Sign in at/.test(line)),
      'the banner sends the first admin to the console',
    );
    assert.ok(
      lines.some((line) => line.includes('shared secret')),
      'the local NAS secret is printed',
    );

    const login = await fetch(`${appliance.portalUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@turnpike.local', password }),
    });
    assert.equal(login.status, 200);
    const body = (await login.json()) as {
      status: string;
      tokens: { accessToken: string };
      securitySetupRequired: string[];
    };
    assert.equal(body.status, 'ok');
    assert.ok(body.securitySetupRequired.length > 0, 'the first admin must set up security first');

    const users = await fetch(`${appliance.portalUrl}/api/v1/users`, {
      headers: { authorization: `Bearer ${body.tokens.accessToken}` },
    });
    assert.equal(users.status, 401, 'staff without MFA reach only the enrolment routes');
    assert.equal(((await users.json()) as { error: { code: string } }).error.code, 'TP_ERR_MFA_REQUIRED');

    const enroll = await fetch(`${appliance.portalUrl}/api/v1/auth/mfa/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${body.tokens.accessToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(enroll.status, 200);
  }));

test('the embedded default shows a demo catalogue on the portal', () =>
  withEmbeddedAppliance(async (appliance) => {
    const landing = await fetch(`${appliance.portalUrl}/portal`);
    assert.equal(landing.status, 200);
    const html = await landing.text();
    assert.match(html, /Free 30 minutes/);
    assert.match(html, /Monthly/);
  }));

test('while the appliance runs, a CLI command that changes state goes through it (one writer)', () =>
  withEmbeddedAppliance(async (appliance, { dir, configFile }) => {
    const added = await turnpike(configFile, 'nas', 'add', 'lobby', '192.0.2.10', '--dialect', 'mikrotik');
    assert.match(added.stdout, /NAS lobby added/);
    assert.ok(
      Object.values(appliance.store.db.nasClients).some((nas) => nas.name === 'lobby'),
      'the running process holds the new NAS client',
    );
    const vouchers = await turnpike(configFile, 'voucher', 'create', '--plan', 'One hour', '--count', '3');
    const codes = vouchers.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(codes.length, 3, 'the codes are printed');
    assert.equal(Object.keys(appliance.store.db.vouchers).length, 3);
    await assert.rejects(turnpike(configFile, 'restore', join(dir, 'var', 'db.json')), /stop the appliance/);
  }));

test("config check names a typo'd key and exits non-zero", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-cli-'));
  try {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ radius: { authPrt: 1812 } }));
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', cli, 'config', 'check', file]),
      (err: { stdout: string; code: number }) => {
        assert.equal(err.code, 1);
        assert.match(err.stdout, /radius\.authPrt: unknown key/);
        return true;
      },
    );
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ radius: { authPort: 1812 } }));
    const ok = await run(process.execPath, ['--import', 'tsx', cli, 'config', 'check', good]);
    assert.match(ok.stdout, /OK/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a corrupt db.json stops the start with the file name and the restore command, and the CLI says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-cli-'));
  try {
    const configFile = join(dir, 'turnpike.json');
    await writeFile(configFile, JSON.stringify({ dataDir: join(dir, 'var'), logLevel: 'silent' }));
    await run(process.execPath, ['--import', 'tsx', cli, '--config', configFile, 'nas', 'add', 'ap', '10.0.0.1']);
    await writeFile(join(dir, 'var', 'db.json'), '{"schemaVersion": 1, "users": {');
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', cli, '--config', configFile, 'start']),
      (err: { stderr: string; code: number }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr, /db\.json cannot be read/);
        assert.match(err.stderr, /npm run turnpike -- restore/, 'the command that works from a checkout');
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('turnpike init writes the config it is pointed at, creates the first admin once, and seeds no plans or NAS', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-init-'));
  try {
    const configFile = join(dir, 'etc', 'turnpike.json');
    const first = await run(process.execPath, [
      '--import',
      'tsx',
      cli,
      '--config',
      configFile,
      'init',
      '--data-dir',
      join(dir, 'state'),
    ]);
    assert.match(first.stdout, /wrote .*turnpike\.json/);
    assert.match(first.stdout, /one-time password \(shown once\): \S{12,}/);
    const written = JSON.parse(await readFile(configFile, 'utf8')) as { provisioner: { targets: unknown[] } };
    assert.deepEqual(
      written.provisioner.targets,
      [{ site: 'local', address: '127.0.0.1:50051' }],
      'the appliance reaches the provisioner unit on the same box without further editing',
    );
    const again = await turnpike(configFile, 'init');
    assert.match(again.stdout, /an admin already exists/);
    assert.doesNotMatch(again.stdout, /one-time password/);
    assert.match((await turnpike(configFile, 'plan', 'list')).stdout, /no plans/);
    assert.match((await turnpike(configFile, 'nas', 'list')).stdout, /no NAS clients/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
