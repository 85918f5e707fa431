/** Writes docs/errors.md from the error table: `npx tsx appliance/write-error-table.ts`. */
import { writeFileSync } from 'node:fs';
import { errorTableMarkdown } from './error-table.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), errorTableMarkdown());
