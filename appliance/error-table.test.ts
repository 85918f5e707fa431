import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorTableMarkdown } from './error-table.js';
import { ERRORS } from '../shared/errors.js';

test('docs/errors.md lists every error code with its HTTP, gRPC and RADIUS mapping, as the table has it now', () => {
  const documented = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(
    documented,
    errorTableMarkdown(),
    'docs/errors.md is out of date: run npx tsx appliance/write-error-table.ts',
  );
  for (const code of Object.keys(ERRORS)) assert.match(documented, new RegExp(`\\| \`${code}\` \\|`));
  assert.match(documented, /\| `TP_ERR_STORE_UNAVAILABLE` \| 503 \(Retry-After: 5\) \| 14 UNAVAILABLE \| no answer/);
  assert.match(
    documented,
    /\| `TP_ERR_INVALID_CREDENTIALS` \| 401 \| 16 UNAUTHENTICATED \| Access-Reject, Reply-Message "The code or password is wrong/,
  );
});
