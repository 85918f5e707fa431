#!/usr/bin/env node
// Finds every *.test.ts under the source folders and runs them with Node's test
// runner (Node 20's --test does not expand globs itself). Extra arguments are
// passed through, e.g. `npm test -- --test-name-pattern=radius`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOTS = [
  'appliance',
  'shared',
  'portal',
  'radius',
  'provisioner',
  'systemd',
  'bench',
  'packaging',
  'observability',
];

function testFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = ROOTS.flatMap(testFiles).sort();
const passThrough = process.argv.slice(2);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...passThrough, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
