#!/usr/bin/env node
// `npm run build`: compiles the appliance and the provisioner to JavaScript in
// dist/ (production runs `node dist/…/*.js`, never tsx) and copies beside the
// compiled modules the files they read at run time through import.meta.url:
// views and CSS, RADIUS dictionaries, the common-password list. Tests, test data (packet-tests), test
// harnesses and benches stay out of dist/: tsconfig.build.json compiles what the
// two entry points (the turnpike CLI, the provisioner daemon) import. `--out DIR` builds elsewhere (the
// package and the tests build into their own directories).
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--out');
const OUT = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(ROOT, 'dist');
const SOURCES = ['appliance', 'portal', 'radius', 'provisioner', 'proto', 'shared'];
/** Source-tree files that are not run-time data: code, docs, protobuf sources and build config. */
const NOT_ASSETS = /\.(ts|md|proto|ya?ml)$/;

function assets(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return ['testing', 'fixtures', 'packet-tests', 'node_modules'].includes(entry.name) ? [] : assets(path);
    return NOT_ASSETS.test(entry.name) ? [] : [path];
  });
}

rmSync(OUT, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', OUT],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) {
  // tsc emits what it can even on type errors; half a build without its views starts and then crashes.
  rmSync(OUT, { recursive: true, force: true });
  console.error(`build: failed, ${OUT} removed; fix the errors above and run the build again`);
  process.exit(tsc.status ?? 1);
}
const copied = SOURCES.flatMap((source) => assets(join(ROOT, source)));
for (const file of copied) cpSync(file, join(OUT, relative(ROOT, file)));
console.log(`build: ${OUT} compiled, ${copied.length} run-time files copied`);
