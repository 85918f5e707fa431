import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './system-root.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npm run build` into `out`. */
export async function compile(out: string): Promise<void> {
  const built = await run(process.execPath, [join(ROOT, 'scripts/build.js'), '--out', out]);
  assert.equal(built.code, 0, `build failed:\n${built.stdout}${built.stderr}`);
}

/** `npm run package` of the compiled tree `build` as `version`; returns the .deb's path. */
export async function packageDeb(build: string, version: string, out: string): Promise<string> {
  const result = await run('bash', [join(ROOT, 'packaging/build-deb.sh')], {
    env: { TURNPIKE_VERSION: version, TURNPIKE_DEB_OUT: out, TURNPIKE_BUILD_DIR: build },
  });
  assert.equal(result.code, 0, `build-deb.sh failed:\n${result.stdout}${result.stderr}`);
  return join(out, `turnpike_${version}_all.deb`);
}

/**
 * A copy of the compiled tree `from` whose store knows one schema version more:
 * what a newer release with a migration looks like. Returns that version.
 */
export async function withOneMoreMigration(from: string, to: string, latest: number): Promise<number> {
  await cp(from, to, { recursive: true });
  const file = join(to, 'appliance/store/migrations.js');
  const source = await readFile(file, 'utf8');
  const start = source.indexOf('export const MIGRATIONS = [');
  const end = source.indexOf('\n];', start);
  assert.ok(start >= 0 && end > start, `no MIGRATIONS array in ${file}`);
  const next = latest + 1;
  const migration = `\n  { version: ${next}, description: 'upgrade test', up: (doc) => ({ ...doc, schemaVersion: ${next} }) },`;
  await writeFile(file, source.slice(0, end) + migration + source.slice(end));
  return next;
}
