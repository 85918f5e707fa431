import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { commandHere } from './command-here.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./turnpike.ts', import.meta.url));

/** The CLI as `npm run turnpike` runs it from a checkout, with no config and no TURNPIKE_* in its environment. */
function turnpike(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TURNPIKE_')));
  return run(process.execPath, ['--import', 'tsx', cli, ...args], {
    env: { ...clean, ...env },
    ...(cwd ? { cwd } : {}),
  }).then(
    ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
    (err: { stdout: string; stderr: string; code: number }) => ({
      stdout: err.stdout,
      stderr: err.stderr,
      code: err.code,
    }),
  );
}

test(
  'a command without a configuration says where it looked and what to run, and creates nothing',
  { skip: existsSync('/etc/turnpike/turnpike.json') && 'this box has /etc/turnpike/turnpike.json' },
  async () => {
    const before = existsSync('/var/lib/turnpike');
    const result = await turnpike(['plan', 'list']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no configuration found: looked for \/etc\/turnpike\/turnpike\.json/);
    assert.match(result.stderr, /npm run turnpike -- init/);
    assert.match(result.stderr, /npm run turnpike -- --embedded plan list/);
    assert.doesNotMatch(result.stdout, /no plans/);
    assert.equal(existsSync('/var/lib/turnpike'), before, 'no store was created');
  },
);

test('a read-only command on a data directory without a store says so and leaves it empty', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-cli-guidance-'));
  try {
    const configFile = join(dir, 'turnpike.json');
    const dataDir = join(dir, 'var');
    await writeFile(configFile, JSON.stringify({ dataDir, logLevel: 'silent' }));
    for (const command of [
      ['plan', 'list'],
      ['user', 'list'],
      ['backup', join(dir, 'copy.json')],
    ]) {
      const result = await turnpike(['--config', configFile, ...command]);
      assert.equal(result.code, 1, command.join(' '));
      assert.match(result.stderr, /there is no store in .*var/, command.join(' '));
      assert.equal(existsSync(dataDir), false, `${command.join(' ')} created nothing`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('help keeps every usage apart from its summary', async () => {
  const { stdout } = await turnpike(['help']);
  assert.match(stdout, /user add EMAIL \[--role R\] \[--name N\]\n\s+create an account/);
  assert.doesNotMatch(stdout, /\]create/);
  assert.doesNotMatch(stdout, /\][a-z]|[A-Z]{2}[a-z]/, 'no usage runs into a summary');
});

test('SIGTERM stops the appliance with one line saying what stopped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-cli-stop-'));
  try {
    const configFile = join(dir, 'turnpike.json');
    await writeFile(
      configFile,
      JSON.stringify({
        dataDir: join(dir, 'var'),
        logLevel: 'silent',
        portal: { host: '127.0.0.1', port: 0 },
        radius: { listen: ['127.0.0.1'], authPort: 0, acctPort: 0 },
        telemetry: { metricsPort: 0 },
      }),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--config', configFile, 'start'], {
      env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TURNPIKE_'))),
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not running after 30 s:\n${stdout}`)), 30_000);
      child.stdout.on('data', () => {
        if (stdout.includes('Turnpike is running')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const last = stdout.trim().split('\n').at(-1) ?? '';
    assert.match(last, /^Turnpike stopped on SIGTERM: portal, RADIUS and the store in .*var are closed\.$/);
    assert.ok((await readdir(join(dir, 'var'))).includes('db.json'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('advice names `turnpike` where the package installed it and `npm run turnpike --` in a checkout', () => {
  assert.equal(
    commandHere({ embedded: false, argv: ['/usr/bin/node', '/usr/lib/turnpike/appliance/cli/turnpike.js'] }),
    'turnpike',
  );
  assert.equal(
    commandHere({ embedded: false, argv: ['node', '/srv/turnpike/appliance/cli/turnpike.ts'] }),
    'npm run turnpike --',
  );
  assert.equal(
    commandHere({ embedded: true, argv: ['node', '/srv/turnpike/appliance/cli/turnpike.ts'] }),
    'npm run turnpike -- --embedded',
  );
});
