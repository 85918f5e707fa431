import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

test('signing up with a taken address gets no session, says what to do, and the owner is mailed', async (t) => {
  const h = await startGuestPortal(t);
  const owner = new FormClient(h.app);
  await owner.get('/portal/signup');
  const signedUp = await owner.post('/portal/signup', {
    email: 'kim@example.test',
    password: 'Orchid-Harbour-77',
    terms: 'yes',
  });
  assert.equal(signedUp.statusCode, 303, 'a new address is signed in with the password it chose');

  const stranger = new FormClient(h.app);
  await stranger.get('/portal/signup');
  const taken = await stranger.post('/portal/signup', {
    email: 'kim@example.test',
    password: 'Someone-Elses-Phrase-9',
    terms: 'yes',
  });
  assert.notEqual(taken.statusCode, 303);
  assert.ok(!taken.headers['set-cookie']?.toString().includes('tp_access='), 'no session for the stranger');
  assert.match(taken.body, /If this address already has an account, we have sent it a message/);
  assert.doesNotMatch(taken.body, /already registered/);
  assert.equal((await stranger.get('/portal/account')).statusCode, 303, 'the stranger is not signed in');

  await h.accounts.settled();
  const outbox = join(h.config.dataDir, 'outbox');
  const mails = await Promise.all((await readdir(outbox)).map((name) => readFile(join(outbox, name), 'utf8')));
  assert.equal(mails.filter((mail) => /Someone tried to register/.test(mail)).length, 1);
});
