import { test, type TestContext } from 'node:test';
import { chapDigest } from '../credentials/chap.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { createPlan } from '../plans/plans.js';
import { grantSubscription } from '../subscriptions/subscriptions.js';
import { tempStore } from '../testing/temp-store.js';
import { consumePortalCredential, CREDENTIAL_TTL_MS, mintPortalCredential, papMatches } from './portal-credentials.js';

async function fixture(t: TestContext) {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const plan = await createPlan(store, clock, { name: 'Hour' });
  const subscription = await grantSubscription(store, clock, {
    userId: 'u1',
    voucherCode: null,
    plan,
    source: 'staff-grant',
    sourceRef: null,
  });
  return { store, clock, subscription };
}

const MAC = 'aa:bb:cc:dd:ee:01';
const invalid = (err: unknown) => isTurnpikeError(err, 'TP_ERR_INVALID_CREDENTIALS');

test('a one-time credential works once: a replay with the right password is refused', async (t) => {
  const { store, clock, subscription } = await fixture(t);
  const credential = await mintPortalCredential(store, clock, {
    subscriptionId: subscription.id,
    mac: 'AA-BB-CC-DD-EE-01',
  });
  assert.equal(credential.mac, MAC);
  assert.equal(credential.expiresAt, clock.now() + CREDENTIAL_TTL_MS);
  const verify = (password: string) => papMatches(password, credential.password);
  const spent = await consumePortalCredential(store, clock, { username: credential.username, mac: MAC, verify });
  assert.equal(spent.subscriptionId, subscription.id);
  assert.equal(spent.usedAt, clock.now());
  await assert.rejects(
    consumePortalCredential(store, clock, { username: credential.username, mac: MAC, verify }),
    invalid,
  );
});

test('concurrent replays of one credential: exactly one succeeds', async (t) => {
  const { store, clock, subscription } = await fixture(t);
  const credential = await mintPortalCredential(store, clock, { subscriptionId: subscription.id, mac: MAC });
  const verify = (password: string) => password === credential.password;
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () =>
      consumePortalCredential(store, clock, { username: credential.username, mac: MAC, verify }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
});

test('a wrong password, another device, or an expired credential are refused alike, and a wrong try does not burn it', async (t) => {
  const { store, clock, subscription } = await fixture(t);
  const credential = await mintPortalCredential(store, clock, { subscriptionId: subscription.id, mac: MAC });
  await assert.rejects(
    consumePortalCredential(store, clock, { username: credential.username, mac: MAC, verify: () => false }),
    invalid,
  );
  await assert.rejects(
    consumePortalCredential(store, clock, {
      username: credential.username,
      mac: 'aa:bb:cc:dd:ee:02',
      verify: () => true,
    }),
    invalid,
  );
  await assert.rejects(
    consumePortalCredential(store, clock, { username: 'tp-unknown', mac: MAC, verify: () => true }),
    invalid,
  );
  clock.advance(CREDENTIAL_TTL_MS);
  await assert.rejects(
    consumePortalCredential(store, clock, { username: credential.username, mac: MAC, verify: () => true }),
    invalid,
  );
});

test('minting sweeps spent and expired credentials so the table stays small', async (t) => {
  const { store, clock, subscription } = await fixture(t);
  for (let i = 0; i < 5; i += 1)
    await mintPortalCredential(store, clock, { subscriptionId: subscription.id, mac: MAC });
  clock.advance(CREDENTIAL_TTL_MS + 1);
  await mintPortalCredential(store, clock, { subscriptionId: subscription.id, mac: MAC });
  assert.equal(Object.keys(store.db.portalCredentials).length, 1);
});

test('CHAP: the one definition agrees with RFC 1994 computed by hand', () => {
  const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const response = createHash('md5')
    .update(Buffer.concat([Buffer.from([7]), Buffer.from('secret'), challenge]))
    .digest();
  assert.deepEqual(chapDigest(7, 'secret', challenge), response);
  assert.notDeepEqual(chapDigest(7, 'secreT', challenge), response);
  assert.notDeepEqual(chapDigest(8, 'secret', challenge), response);
});
