import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAuthorizedKey } from '../../proto/authorized-key.js';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { requireSystem } from '../testing/system-tools.js';
import { dsaKeyLine, ed25519KeyLine, rsaKeyLine } from '../testing/ssh-public-keys.js';
import { tempStore } from '../testing/temp-store.js';
import { addSshKey, createSshKeys, listSshKeys, MAX_SSH_KEYS_PER_USER, removeSshKey } from './ssh-keys.js';
import { userRecord } from '../testing/user-record.js';

test('the parser normalises spacing and names the reason it refuses a line', () => {
  const line = ed25519KeyLine('ada@phone');
  const [type, data, comment] = line.split(' ');
  const parsed = parseAuthorizedKey(`  ${type}   ${data}  ${comment}\n`);
  assert.equal(parsed.ok && parsed.line, line);
  assert.equal(parsed.ok && parsed.type, 'ssh-ed25519');
  assert.equal(parsed.ok && parsed.comment, 'ada@phone');
  for (const [bad, reason] of [
    [dsaKeyLine(), 'DSA keys are not accepted'],
    [rsaKeyLine(1024), 'RSA keys need at least 2048 bits'],
    [`${type} ${data} two words`, 'must be "type base64 [comment]"'],
    [`${type} ${data} semi;colon`, 'comment may hold only [A-Za-z0-9@._+-]'],
    [`ssh-foo ${data}`, 'key type "ssh-foo" is not accepted'],
    [`${type} not*base64`, 'key data is not base64'],
    [`ecdsa-sha2-nistp256 ${data}`, 'key data does not match its type'],
  ] as const) {
    assert.deepEqual(parseAuthorizedKey(bad), { ok: false, reason }, bad.slice(0, 40));
  }
});

test('fingerprints match what ssh-keygen -l prints', async (t) => {
  if (!requireSystem(t, { tools: ['ssh-keygen'] })) return;
  const dir = await mkdtemp(join(tmpdir(), 'tp-sshkey-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'guest@phone', '-f', join(dir, 'made')]);
  const lines = [(await readFile(join(dir, 'made.pub'), 'utf8')).trim(), ed25519KeyLine(), rsaKeyLine(2048)];
  for (const [i, line] of lines.entries()) {
    await writeFile(join(dir, `${i}.pub`), `${line}\n`);
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, `${i}.pub`)], {
      encoding: 'utf8',
    }).split(' ')[1];
    const parsed = parseAuthorizedKey(line);
    assert.equal(parsed.ok && parsed.fingerprint, printed, line.slice(0, 20));
  }
});

test('keys are added and removed per user; refused changes leave the store untouched', async (t) => {
  const store = await tempStore(t);
  const clock = new ManualClock(1_000);
  const user = userRecord({ id: 'u1', email: 'a@example.test', displayName: 'A' });
  await store.update((db) => {
    db.users.u1 = user;
  });
  const keys = createSshKeys({ store, clock });
  let changes = 0;
  keys.onChanged(() => changes++);

  const first = await keys.add('u1', ed25519KeyLine('one'));
  assert.equal(first.addedAt, 1_000);
  assert.equal(store.db.users.u1!.updatedAt, 1_000);
  const before = JSON.stringify(store.db);
  await assert.rejects(addSshKey(store, clock, 'u1', first.line), (e) => isTurnpikeError(e, 'TP_ERR_CONFLICT'));
  await assert.rejects(addSshKey(store, clock, 'u1', dsaKeyLine()), (e) => isTurnpikeError(e, 'TP_ERR_VALIDATION'));
  await assert.rejects(addSshKey(store, clock, 'nobody', ed25519KeyLine()), (e) =>
    isTurnpikeError(e, 'TP_ERR_NOT_FOUND'),
  );
  await assert.rejects(removeSshKey(store, clock, 'u1', 'nope'), (e) => isTurnpikeError(e, 'TP_ERR_NOT_FOUND'));
  assert.equal(JSON.stringify(store.db), before);

  for (let i = 1; i < MAX_SSH_KEYS_PER_USER; i++) await addSshKey(store, clock, 'u1', ed25519KeyLine());
  await assert.rejects(addSshKey(store, clock, 'u1', ed25519KeyLine()), (e) => isTurnpikeError(e, 'TP_ERR_CONFLICT'));
  assert.equal(listSshKeys(store.db, 'u1').length, MAX_SSH_KEYS_PER_USER);

  clock.advance(5);
  await keys.remove('u1', first.id);
  assert.ok(!listSshKeys(store.db, 'u1').some((k) => k.id === first.id));
  assert.equal(store.db.users.u1!.updatedAt, 1_005);
  assert.equal(changes, 2, 'listeners hear of each change through the bound service, not of refusals');
});
