/** Rewrites the configuration table in README.md from appliance/config/schema.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from './config-table.js';

const path = new URL('../../README.md', import.meta.url);
writeFileSync(path, withConfigTable(readFileSync(path, 'utf8')));
process.stdout.write('README.md: configuration table updated\n');
