import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after, describe, it, type TestContext } from 'node:test';
import { requireSystem } from '../appliance/testing/system-tools.js';
import { compile, packageDeb } from './testing/debs.js';
import { run } from './testing/system-root.js';

const TOOLS = ['dpkg-deb', 'lintian', 'npm'];

describe('npm run package: the Debian package', () => {
  let scratch = '';
  let deb = '';
  let files: string[] = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'turnpike-package-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  /** Builds the package once, for whichever test runs first on a machine that has the tools. */
  async function built(t: TestContext): Promise<boolean> {
    if (!requireSystem(t, { tools: TOOLS })) return false;
    if (!deb) {
      await compile(join(scratch, 'build'));
      deb = await packageDeb(join(scratch, 'build'), '1.2.3', scratch);
      files = (await run('dpkg-deb', ['--contents', deb])).stdout
        .split('\n')
        .map((line) => line.split(/\s+/).at(5) ?? '')
        .filter(Boolean)
        .map((path) => path.replace(/^\./, ''));
    }
    return true;
  }

  it('declares what an installer needs: name, version, dependencies, conffiles', async (t) => {
    if (!(await built(t))) return;
    assert.match(deb, /turnpike_1\.2\.3_all\.deb$/);
    const field = async (name: string): Promise<string> =>
      (await run('dpkg-deb', ['--field', deb, name])).stdout.trim();
    assert.equal(await field('Package'), 'turnpike');
    assert.equal(await field('Version'), '1.2.3');
    assert.equal(await field('Architecture'), 'all', 'pure JavaScript: one package for every architecture');
    assert.match(await field('Depends'), /nodejs \(>= 20\)/);
    assert.match(await field('Depends'), /\bnftables\b/);
    assert.match(await field('Recommends'), /\bvsftpd\b/);
    assert.match(await field('Recommends'), /\bopenssh-server\b/);
    const conffiles = (await run('dpkg-deb', ['--info', deb, 'conffiles'])).stdout.trim().split('\n').sort();
    assert.deepEqual(conffiles, [
      '/etc/pam.d/turnpike-vsftpd',
      '/etc/ssh/sshd_config.d/turnpike.conf',
      '/etc/turnpike/provisioner.env',
      '/etc/turnpike/telemetry.env',
      '/etc/turnpike/vsftpd/vsftpd.conf',
    ]);
    for (const script of ['preinst', 'postinst', 'prerm', 'postrm']) {
      const shown = await run('dpkg-deb', ['--info', deb, script]);
      assert.equal(shown.code, 0, `${script} is in the package`);
    }
  });

  it('lays out compiled code, its run-time files, the CLI, the units and the dashboards; no TypeScript, no dev tools', async (t) => {
    if (!(await built(t))) return;
    for (const path of [
      '/usr/bin/turnpike',
      '/usr/lib/turnpike/package.json',
      '/usr/lib/turnpike/appliance/cli/turnpike.js',
      '/usr/lib/turnpike/provisioner/main.js',
      '/usr/lib/turnpike/shared/errors.js',
      '/usr/lib/turnpike/shared/telemetry/tracing.js',
      '/usr/lib/turnpike/proto/gen/turnpike/provisioner/v1/provisioner.js',
      '/usr/lib/turnpike/portal/views/layout.eta',
      '/usr/lib/turnpike/portal/views/portal.css',
      '/usr/lib/turnpike/radius/dictionaries/dictionary.chillispot',
      '/usr/lib/turnpike/appliance/accounts/common-passwords.txt',
      '/usr/lib/turnpike/node_modules/fastify/package.json',
      '/usr/lib/turnpike/node_modules/pdfkit/js/data/Helvetica.afm',
      '/lib/systemd/system/turnpike.service',
      '/lib/systemd/system/turnpike-provisioner.service',
      '/lib/systemd/system/turnpike-ftp.service',
      '/usr/share/doc/turnpike/copyright',
      '/usr/share/man/man1/turnpike.1.gz',
      '/usr/share/turnpike/observability/README.md',
      '/usr/share/turnpike/observability/grafana/turnpike-overview.json',
      '/usr/share/turnpike/observability/prometheus/turnpike-rules.yml',
      '/usr/share/turnpike/observability/prometheus/scrape-example.yml',
    ]) {
      assert.ok(files.includes(path), `${path} is in the package`);
    }
    const ours = files.filter((path) => path.startsWith('/usr/lib/turnpike/') && !path.includes('/node_modules/'));
    assert.deepEqual(
      ours.filter((path) => /\.ts$|\.test\.js$|\/testing\/|\/packet-tests\//.test(path)),
      [],
      'no sources, tests or test helpers',
    );
    assert.deepEqual(
      files.filter((path) => path.startsWith('/usr/share/turnpike/') && /\.test\./.test(path)),
      [],
      'the observability tests stay in the checkout',
    );
    for (const dev of ['tsx', 'typescript', 'esbuild', 'eslint', 'prettier']) {
      assert.ok(!files.includes(`/usr/lib/turnpike/node_modules/${dev}/`), `${dev} (a dev dependency) is not shipped`);
    }
  });

  it('runs with plain node from the unpacked tree', async (t) => {
    if (!(await built(t))) return;
    const tree = join(scratch, 'unpacked');
    assert.equal((await run('dpkg-deb', ['--extract', deb, tree])).code, 0);
    const cli = await run(process.execPath, [join(tree, 'usr/lib/turnpike/appliance/cli/turnpike.js'), 'help']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /turnpike — captive-portal access gateway/);
    const provisioner = await run(process.execPath, [join(tree, 'usr/lib/turnpike/provisioner/main.js'), '--help']);
    assert.match(provisioner.stderr + provisioner.stdout, /turnpike-provisioner \[options\]/);
  });

  it('is lintian clean (the overrides in packaging/debian/lintian-overrides say why)', async (t) => {
    if (!(await built(t))) return;
    const result = await run('lintian', ['--tag-display-limit', '0', deb]);
    const tags = result.stdout.split('\n').filter((line) => /^[EW]: /.test(line));
    assert.deepEqual(tags, [], result.stdout);
  });
});
