import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dsaKeyLine, ed25519KeyLine, rsaKeyLine } from '../../appliance/testing/ssh-public-keys.js';
import { bearer, postJson, signedInAs, startAuthHarness, type AuthHarness } from '../auth/auth-test-harness.js';
import type { AuditRecord } from '../../appliance/accounts/audit.js';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';

const KEYS = '/api/v1/me/ssh-keys';

function addKey(h: AuthHarness, tokens: TokenPair, publicKey: string) {
  return postJson(h.app, KEYS, { publicKey }, bearer(tokens));
}

function listKeys(h: AuthHarness, tokens: TokenPair) {
  return h.app.inject({ url: KEYS, headers: bearer(tokens) });
}

test('SSH key routes need a signed-in user', async () => {
  const h = await startAuthHarness();
  try {
    for (const [method, url] of [
      ['GET', KEYS],
      ['POST', KEYS],
      ['DELETE', `${KEYS}/anything`],
    ] as const) {
      const reply = await h.app.inject({
        method,
        url,
        ...(method === 'POST' ? { payload: { publicKey: ed25519KeyLine() } } : {}),
      });
      assert.equal(reply.statusCode, 401, `${method} ${url}`);
      assert.equal(reply.json().error.code, 'TP_ERR_UNAUTHENTICATED');
    }
  } finally {
    await h.close();
  }
});

test('a guest adds an ed25519 key, sees it with its OpenSSH fingerprint, and removes it', async () => {
  const h = await startAuthHarness();
  try {
    const guest = await signedInAs(h, 'guest');
    assert.deepEqual((await listKeys(h, guest.tokens)).json(), { keys: [] });

    const line = ed25519KeyLine('ada@phone');
    const added = await addKey(h, guest.tokens, `${line}\r\n`);
    assert.equal(added.statusCode, 201);
    const key = added.json();
    const blob = Buffer.from(line.split(' ')[1]!, 'base64');
    assert.deepEqual(
      { type: key.type, comment: key.comment, line: key.line, fingerprint: key.fingerprint },
      {
        type: 'ssh-ed25519',
        comment: 'ada@phone',
        line,
        fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
      },
    );
    assert.match(key.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual((await listKeys(h, guest.tokens)).json().keys, [key]);
    assert.deepEqual(
      h.store.db.users[guest.userId]!.sshKeys.map((k) => k.line),
      [line],
      'stored normalised',
    );

    const removed = await h.app.inject({ method: 'DELETE', url: `${KEYS}/${key.id}`, headers: bearer(guest.tokens) });
    assert.equal(removed.statusCode, 204);
    assert.equal(removed.body, '');
    assert.deepEqual((await listKeys(h, guest.tokens)).json(), { keys: [] });
    const again = await h.app.inject({ method: 'DELETE', url: `${KEYS}/${key.id}`, headers: bearer(guest.tokens) });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error.code, 'TP_ERR_NOT_FOUND');

    await h.auth.accounts.settled();
    const audit = await h.store.history<AuditRecord>('audit').readAll();
    const mine = audit.filter((r) => r.action.startsWith('ssh_key.')).map((r) => [r.action, r.actorId]);
    assert.deepEqual(mine, [
      ['ssh_key.added', guest.userId],
      ['ssh_key.removed', guest.userId],
    ]);
  } finally {
    await h.close();
  }
});

test('DSA, short RSA, key options and garbage are refused with a message that says what to paste', async () => {
  const h = await startAuthHarness();
  try {
    const guest = await signedInAs(h, 'guest');
    const ed = ed25519KeyLine();
    for (const [publicKey, reason] of [
      [dsaKeyLine(), /DSA keys are not accepted/],
      [rsaKeyLine(1024), /RSA keys need at least 2048 bits/],
      [`command="sh" ${ed}`, /"type base64 \[comment\]"|not accepted/],
      [`ssh-ed25519 ${rsaKeyLine(2048).split(' ')[1]}`, /does not match its type/],
      ['-----BEGIN OPENSSH PRIVATE KEY-----', /not accepted|type base64/],
    ] as const) {
      const reply = await addKey(h, guest.tokens, publicKey);
      assert.equal(reply.statusCode, 400, publicKey.slice(0, 30));
      const error = reply.json().error;
      assert.equal(error.code, 'TP_ERR_VALIDATION');
      assert.match(error.message, reason);
      assert.match(error.message, /paste the single line of your public key file/);
    }
    assert.equal((await addKey(h, guest.tokens, rsaKeyLine(2048))).statusCode, 201, 'RSA-2048 is fine');
    assert.equal(h.store.db.users[guest.userId]!.sshKeys.length, 1);
  } finally {
    await h.close();
  }
});

test('the same key twice, an 11th key, an oversized body and unknown fields are refused', async () => {
  const h = await startAuthHarness();
  try {
    const guest = await signedInAs(h, 'guest');
    const line = ed25519KeyLine('laptop');
    assert.equal((await addKey(h, guest.tokens, line)).statusCode, 201);
    const duplicate = await addKey(h, guest.tokens, line.replace(/ laptop$/, ' renamed'));
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().error.code, 'TP_ERR_CONFLICT');
    assert.match(duplicate.json().error.message, /already on your account/);

    for (let i = 1; i < 10; i++) assert.equal((await addKey(h, guest.tokens, ed25519KeyLine())).statusCode, 201);
    const eleventh = await addKey(h, guest.tokens, ed25519KeyLine());
    assert.equal(eleventh.statusCode, 409);
    assert.match(eleventh.json().error.message, /at most 10/);

    const huge = await addKey(h, guest.tokens, `ssh-ed25519 ${'A'.repeat(17_000)}`);
    assert.equal(huge.statusCode, 400);
    const extra = await postJson(h.app, KEYS, { publicKey: ed25519KeyLine(), admin: true }, bearer(guest.tokens));
    assert.equal(extra.statusCode, 400);
    assert.equal(h.store.db.users[guest.userId]!.sshKeys.length, 10);
  } finally {
    await h.close();
  }
});

test('another user can neither see nor remove my keys', async () => {
  const h = await startAuthHarness();
  try {
    const me = await signedInAs(h, 'guest');
    const other = await signedInAs(h, 'guest');
    const key = (await addKey(h, me.tokens, ed25519KeyLine())).json();
    assert.deepEqual((await listKeys(h, other.tokens)).json(), { keys: [] });
    const theirs = await h.app.inject({ method: 'DELETE', url: `${KEYS}/${key.id}`, headers: bearer(other.tokens) });
    assert.equal(theirs.statusCode, 404);
    assert.equal(theirs.json().error.code, 'TP_ERR_NOT_FOUND');
    assert.deepEqual(
      (await listKeys(h, me.tokens)).json().keys.map((k: { id: string }) => k.id),
      [key.id],
    );
  } finally {
    await h.close();
  }
});

test('the OpenAPI document describes the SSH key routes with closed input and output schemas', async () => {
  const h = await startAuthHarness();
  try {
    const doc = (await h.app.inject({ url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
    };
    assert.deepEqual(Object.keys(doc.paths[KEYS] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths[`${KEYS}/{id}`] ?? {}), ['delete']);
    assert.ok(doc.paths[KEYS]!.post!.responses['201']);
    assert.ok(doc.paths[`${KEYS}/{id}`]!.delete!.responses['204']);
    const input = JSON.stringify(doc.paths[KEYS]!.post!.requestBody);
    assert.match(input, /"additionalProperties":false/);
    assert.match(input, /"maxLength":16384/);
  } finally {
    await h.close();
  }
});
