import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTurnpikeError } from '../../shared/errors.js';
import { assertAcceptablePassword, isCommonPassword } from './password-policy.js';

function refusal(password: string, email?: string): string | null {
  try {
    assertAcceptablePassword(password, email ? { email } : {});
    return null;
  } catch (err) {
    assert.ok(isTurnpikeError(err, 'TP_ERR_WEAK_PASSWORD'));
    return err.message;
  }
}

test('the bundled list knows thousands of common passwords, case-insensitively', () => {
  for (const common of ['qwertyuiop', '1234567890', 'password123', 'PASSWORD123', 'Basketball']) {
    assert.equal(isCommonPassword(common), true, common);
  }
  assert.equal(isCommonPassword('violet kettle under moonlight'), false);
});

test('a password needs 10 characters, at most 72 bytes, not common, not the email name', () => {
  assert.match(refusal('short')!, /at least 10/);
  assert.match(refusal('ninechars')!, /at least 10/);
  assert.equal(refusal('tenchars!!'), null);
  assert.equal(refusal('ünïcödé-ok'), null, 'characters, not bytes, count toward the minimum');
  assert.match(refusal('x'.repeat(73))!, /72 bytes/);
  assert.match(refusal('Password123')!, /common/);
  assert.match(refusal('margaret-2026-xyz', 'Margaret@example.test')!, /email/);
});
