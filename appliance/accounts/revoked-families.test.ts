import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { Store } from '../store/store.js';
import { openStore } from '../open-store.js';
import { tempStore } from '../testing/temp-store.js';
import { userRecord } from '../testing/user-record.js';
import { SessionTokens } from './session-tokens.js';
import { SigningKeys } from './signing-keys.js';

const ACCESS_TTL = 900;
const REFRESH_TTL = 3_600;

/** One appliance's token service on `store`: each call is a separate process's view of the same state. */
async function tokensOn(store: Store, clock: ManualClock): Promise<SessionTokens> {
  const keys = new SigningKeys({ store, clock, issuer: 'turnpike-test', maxTokenTtlSeconds: REFRESH_TTL });
  await keys.ensureActive();
  return new SessionTokens({ store, clock, keys, accessTtlSeconds: ACCESS_TTL, refreshTtlSeconds: REFRESH_TTL });
}

async function withGuest(t: TestContext): Promise<{ store: Store; clock: ManualClock }> {
  const clock = new ManualClock(Date.now());
  const store = await tempStore(t, 'h10multi-tokens-');
  await store.update((db) => {
    db.users.u1 = userRecord({ id: 'u1' }, clock.now());
  });
  return { store, clock };
}

test('a family revoked through one token service is refused by every other one on the same store', async (t) => {
  const { store, clock } = await withGuest(t);
  const a = await tokensOn(store, clock);
  const b = await tokensOn(store, clock);
  const pair = await a.issue(userRecord({ id: 'u1' }), false);
  const { sessionId } = await b.verifyAccess(pair.accessToken);
  assert.equal(b.isRevoked(sessionId), false);

  await a.revokeFamily(sessionId);

  assert.equal(b.isRevoked(sessionId), true);
  assert.equal((await b.rotate(pair.refreshToken)).outcome.kind, 'invalid');
});

test('a reused refresh token revokes its family for a service started after the reuse', async (t) => {
  const { store, clock } = await withGuest(t);
  const a = await tokensOn(store, clock);
  const first = await a.issue(userRecord({ id: 'u1' }), false);
  const rotated = await a.rotate(first.refreshToken);
  assert.equal(rotated.outcome.kind, 'rotated');
  const reused = await a.rotate(first.refreshToken);
  assert.equal(reused.outcome.kind, 'reused');

  const later = await tokensOn(store, clock);
  const { sessionId } = await later.verifyAccess(rotated.tokens!.accessToken);
  assert.equal(later.isRevoked(sessionId), true);
  assert.equal((await later.rotate(rotated.tokens!.refreshToken)).outcome.kind, 'invalid');
});

test('a revoked family is kept across a restart and forgotten once its last token has expired', async (t) => {
  const clock = new ManualClock(Date.now());
  const dir = await mkdtemp(join(tmpdir(), 'h10multi-tokens-'));
  const store = await openStore({ dir });
  await store.update((db) => {
    db.users.u1 = userRecord({ id: 'u1' }, clock.now());
  });
  const tokens = await tokensOn(store, clock);
  const pair = await tokens.issue(userRecord({ id: 'u1' }), false);
  const { sessionId } = await tokens.verifyAccess(pair.accessToken);
  await tokens.revokeUser('u1');
  assert.equal(tokens.revokedFamilyCount(), 1);

  await store.close();
  const reopened = await openStore({ dir });
  t.after(async () => {
    await reopened.close();
    await rm(dir, { recursive: true, force: true });
  });
  const after = await tokensOn(reopened, clock);
  assert.equal(after.isRevoked(sessionId), true);

  clock.advance(REFRESH_TTL * 1000 + 1);
  assert.equal(after.revokedFamilyCount(), 0, 'nothing of the family can be presented any more');
  await after.issue(userRecord({ id: 'u1' }), false);
  assert.deepEqual(reopened.db.revokedFamilies, {}, 'the next write prunes it from the store');
});
