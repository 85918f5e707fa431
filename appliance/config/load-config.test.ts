import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTurnpikeError } from '../../shared/errors.js';
import { loadConfig } from './load-config.js';

async function withConfigFile(contents: string, run: (path: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-config-'));
  const path = join(dir, 'turnpike.json');
  await writeFile(path, contents);
  try {
    await run(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('with no file the production defaults apply', () => {
  const { config, source } = loadConfig({ env: {}, file: undefined });
  assert.equal(source === null || source === '/etc/turnpike/turnpike.json', true);
  assert.equal(config.portal.port, 8080);
  assert.equal(config.auth.bcryptCostStaff, 12);
  assert.equal(config.auth.bcryptCostGuest, 10);
  assert.equal(config.radius.authPort, 1812);
});

test('the embedded default keeps everything on loopback under ./var', () => {
  const { config } = loadConfig({ env: {}, embedded: true });
  assert.equal(config.dataDir, './var');
  assert.equal(config.portal.host, '127.0.0.1');
  assert.deepEqual(config.radius.listen, ['127.0.0.1']);
  assert.equal(config.provisioner.embedded, true);
});

test('a file overrides defaults and the environment overrides the file', () =>
  withConfigFile(JSON.stringify({ portal: { port: 9000, host: '::1' } }), (file) => {
    const { config, source } = loadConfig({
      file,
      env: { TURNPIKE_PORTAL_PORT: '9100', TURNPIKE_RADIUS_LISTEN: '127.0.0.1,::1' },
    });
    assert.equal(source, file);
    assert.equal(config.portal.port, 9100);
    assert.equal(config.portal.host, '::1');
    assert.deepEqual(config.radius.listen, ['127.0.0.1', '::1']);
  }));

test('TURNPIKE_CONFIG names the file when --config is absent', () =>
  withConfigFile(JSON.stringify({ logLevel: 'warn' }), (file) => {
    assert.equal(loadConfig({ env: { TURNPIKE_CONFIG: file } }).config.logLevel, 'warn');
  }));

test("a typo'd key stops the start with its path and the keys that were expected", () =>
  withConfigFile(JSON.stringify({ portal: { prot: 8080 } }), (file) => {
    assert.throws(
      () => loadConfig({ file, env: {} }),
      (err: unknown) => {
        assert.ok(isTurnpikeError(err, 'TP_ERR_CONFIG'));
        assert.match(err.message, /portal\.prot: unknown key/);
        assert.match(err.message, /expected one of: host, port/);
        assert.match(err.message, new RegExp(file.replace(/[/.]/g, '\\$&')));
        return true;
      },
    );
  }));

test('a wrong type names the key and the expected type', () =>
  withConfigFile(JSON.stringify({ radius: { authPort: 'eighteen-twelve' } }), (file) => {
    assert.throws(() => loadConfig({ file, env: {} }), /radius\.authPort: must be integer/);
  }));

test('a malformed environment value is refused with the variable name', () => {
  assert.throws(
    () => loadConfig({ env: { TURNPIKE_PORTAL_PORT: 'http' } }),
    /TURNPIKE_PORTAL_PORT=http: expected a number/,
  );
});

test('a file that is not JSON is refused with the parser message', () =>
  withConfigFile('{ "portal": ', (file) => {
    assert.throws(() => loadConfig({ file, env: {} }), /cannot be read as JSON/);
  }));

test('an explicit config file that does not exist is an error, not a silent default', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/turnpike.json', env: {} }), /does not exist/);
});

test('the loaded configuration is frozen', () => {
  const { config } = loadConfig({ env: {}, embedded: true });
  assert.throws(() => {
    (config.portal as { port: number }).port = 1;
  }, TypeError);
});

test('a misspelt TURNPIKE_* override stops the start, naming it and the nearest key', () => {
  assert.throws(
    () => loadConfig({ env: { TURNPIKE_PORTAL_PROT: '1' } }),
    (err: Error) =>
      /TURNPIKE_PORTAL_PROT: not a configuration key; did you mean TURNPIKE_PORTAL_PORT\?/.test(err.message),
  );
  assert.throws(
    () => loadConfig({ env: { TURNPIKE_RADIUS_AUTHPORT: '1912' } }),
    /TURNPIKE_RADIUS_AUTHPORT: not a configuration key; did you mean TURNPIKE_RADIUS_AUTH_PORT\?/,
  );
  assert.throws(
    () => loadConfig({ env: { TURNPIKE_ZZZ_NOTHING_LIKE_IT: 'x' } }),
    /TURNPIKE_ZZZ_NOTHING_LIKE_IT: not a configuration key\n/,
  );
});

test('the installer and packaging variables and TURNPIKE_CONFIG are not mistaken for overrides', () => {
  const { config } = loadConfig({
    env: {
      TURNPIKE_PREFIX: '/opt/turnpike',
      TURNPIKE_STATE_DIR: '/var/lib/turnpike',
      TURNPIKE_RADIUS_AUTH_PORT: '1912',
    },
  });
  assert.equal(config.radius.authPort, 1912);
});
