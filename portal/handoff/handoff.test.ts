import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ManualClock } from '../../shared/clock.js';
import type { PortalCredential } from '../../appliance/domain/model.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { tempStore } from '../../appliance/testing/temp-store.js';
import { decodeMikrotikBytes, followableUrl, parseHandoff } from './handoff-params.js';
import { openHandoff, sealHandoff } from './handoff-token.js';
import { nasLoginUrl } from './nas-login-url.js';

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();
const credential: PortalCredential = {
  username: 'tp-abc',
  password: 'pw-0123456789ab',
  subscriptionId: 's',
  mac: '',
  expiresAt: 0,
  usedAt: null,
};
const CHALLENGE = '0123456789abcdef0123456789abcdef';

async function fixture(t: TestContext) {
  const store = await tempStore(t);
  const clock = new ManualClock();
  const chilli = await addNasClient(store, clock, { name: 'chilli', source: '10.1.0.0/24', dialect: 'coovachilli' });
  const mikrotik = await addNasClient(store, clock, { name: 'mikrotik', source: '10.5.50.1', dialect: 'mikrotik' });
  return { store, clock, chilli, mikrotik };
}

test('CoovaChilli: logon URL carries CHAP ident 0 over the challenge, hashed with the uamsecret when the NAS has one', async (t) => {
  const { store, chilli } = await fixture(t);
  const handoff = parseHandoff(store.db, {
    res: 'notyet',
    uamip: '10.1.0.1',
    uamport: '3990',
    challenge: CHALLENGE,
    mac: 'AA-BB-CC-DD-EE-FF',
    ip: '10.1.0.23',
    userurl: 'http://example.com/news?a=1',
  });
  assert.equal(handoff?.kind, 'coovachilli');
  const plain = new URL(nasLoginUrl(handoff!, chilli, credential));
  assert.equal(plain.origin + plain.pathname, 'http://10.1.0.1:3990/logon');
  assert.equal(plain.searchParams.get('username'), 'tp-abc');
  const challenge = Buffer.from(CHALLENGE, 'hex');
  assert.equal(
    plain.searchParams.get('response'),
    md5(Buffer.from([0]), Buffer.from(credential.password), challenge).toString('hex'),
  );
  assert.equal(plain.searchParams.get('userurl'), 'http://example.com/news?a=1');
  const withSecret = new URL(nasLoginUrl(handoff!, { ...chilli, uamSecret: 'uam-s3cret' }, credential));
  const hashed = md5(challenge, Buffer.from('uam-s3cret'));
  assert.equal(
    withSecret.searchParams.get('response'),
    md5(Buffer.from([0]), Buffer.from(credential.password), hashed).toString('hex'),
  );
});

test('MikroTik: octal-escaped chap-id and chap-challenge become password = MD5(id || password || challenge) on link-login-only', async (t) => {
  const { store, mikrotik } = await fixture(t);
  assert.deepEqual([...decodeMikrotikBytes('\\251\\017A')!], [0o251, 0o17, 65]);
  const handoff = parseHandoff(store.db, {
    'link-login-only': 'http://10.5.50.1/login?ignored=1',
    'link-orig': 'https://example.org/',
    'chap-id': '\\251',
    'chap-challenge': '\\123\\045\\377\\000\\001\\002\\003\\004\\005\\006\\007\\010\\011\\012\\013\\014',
    mac: 'aa:bb:cc:dd:ee:01',
    ip: '10.5.50.9',
  });
  assert.equal(handoff?.kind, 'mikrotik');
  const url = new URL(nasLoginUrl(handoff!, mikrotik, credential));
  assert.equal(url.origin + url.pathname, 'http://10.5.50.1/login');
  const challenge = Buffer.from([0o123, 0o45, 0o377, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(
    url.searchParams.get('password'),
    md5(Buffer.from([0o251]), Buffer.from(credential.password), challenge).toString('hex'),
  );
  assert.equal(url.searchParams.get('dst'), 'https://example.org/');
  assert.equal(url.searchParams.get('ignored'), null);
});

test('a hand-off target that is not a configured NAS is refused', async (t) => {
  const { store } = await fixture(t);
  const unknown = (err: unknown) => isTurnpikeError(err, 'TP_ERR_NAS_UNKNOWN');
  assert.throws(() => parseHandoff(store.db, { uamip: '203.0.113.9', uamport: '3990', challenge: CHALLENGE }), unknown);
  assert.throws(() => parseHandoff(store.db, { uamip: 'evil.example', challenge: CHALLENGE }), unknown);
  assert.throws(() => parseHandoff(store.db, { 'link-login-only': 'http://evil.example/login' }), unknown);
  assert.throws(() => parseHandoff(store.db, { 'link-login-only': 'http://10.5.50.2/login' }), unknown);
  assert.throws(
    () => parseHandoff(store.db, { 'link-login-only': 'javascript:alert(1)//10.5.50.1' }),
    (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'),
  );
  assert.throws(
    () => parseHandoff(store.db, { uamip: '10.1.0.1', challenge: 'zz' }),
    (err) => isTurnpikeError(err, 'TP_ERR_VALIDATION'),
  );
  assert.equal(parseHandoff(store.db, {}), null);
});

test('userurl and link-orig are kept only when plain http(s): never javascript:, data: or credentials', () => {
  assert.equal(followableUrl('javascript:alert(document.cookie)'), null);
  assert.equal(followableUrl('JaVaScRiPt:alert(1)'), null);
  assert.equal(followableUrl('data:text/html,<script>alert(1)</script>'), null);
  assert.equal(followableUrl('//evil.example/'), null);
  assert.equal(followableUrl('http://user:pw@example.com/'), null);
  assert.equal(followableUrl('https://example.com/a?b=c'), 'https://example.com/a?b=c');
});

test('the sealed hand-off context cannot be tampered with, outlives no NAS and expires', async (t) => {
  const { store, clock } = await fixture(t);
  const handoff = parseHandoff(store.db, { uamip: '10.1.0.1', challenge: CHALLENGE })!;
  const token = sealHandoff('secret', handoff, clock.now());
  assert.deepEqual(openHandoff('secret', token, clock.now(), store.db), handoff);
  const [payload, signature] = token.split('.');
  const forged = Buffer.from(
    JSON.stringify({ h: { ...handoff, uamip: '203.0.113.9' }, x: clock.now() + 1e9 }),
  ).toString('base64url');
  assert.equal(openHandoff('secret', `${forged}.${signature}`, clock.now(), store.db), null);
  assert.equal(openHandoff('other-secret', token, clock.now(), store.db), null);
  assert.equal(openHandoff('secret', `${payload}.`, clock.now(), store.db), null);
  clock.advance(3600_001);
  assert.equal(openHandoff('secret', token, clock.now(), store.db), null);
});
