import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTurnpikeError } from '../shared/errors.js';
import {
  assertCidr,
  assertDomain,
  assertIp,
  assertLogin,
  assertMac,
  assertPasswordHash,
  assertSessionId,
  withoutNested,
} from './validation.js';

function rejects(fn: () => unknown, label: string): void {
  assert.throws(fn, (e: unknown) => isTurnpikeError(e, 'TP_ERR_VALIDATION'), label);
}

describe('provisioner validation (allow-lists; canonical forms out)', () => {
  it('canonicalises addresses and refuses anything else', () => {
    const ok: Array<[string, string]> = [
      ['10.0.0.1', '10.0.0.1'],
      ['2001:DB8::0:1', '2001:db8::1'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ];
    for (const [input, out] of ok) assert.equal(assertIp('ip', input), out);
    for (const bad of ['', '10.0.0', '010.0.0.1x', '10.0.0.1/24', 'fe80::1%eth0', 'localhost', '1.2.3.4 ', '$(id)']) {
      rejects(() => assertIp('ip', bad), bad);
    }
  });

  it('accepts unicast MACs in colon or dash form, lower-cased', () => {
    assert.equal(assertMac('mac', 'AA-BB-CC-DD-EE-F0'), 'aa:bb:cc:dd:ee:f0');
    for (const bad of [
      'aa:bb:cc:dd:ee',
      'aa:bb-cc:dd:ee:ff',
      '01:00:5e:00:00:01',
      'ff:ff:ff:ff:ff:ff',
      '00:00:00:00:00:00',
      'aabb.ccdd.eeff',
    ]) {
      rejects(() => assertMac('mac', bad), bad);
    }
  });

  it('takes only tp- logins of lower-case letters, digits, _ and -', () => {
    for (const good of ['tp-a', 'tp-alice_01', `tp-${'a'.repeat(28)}`]) assert.equal(assertLogin('login', good), good);
    for (const bad of [
      'root',
      'tp-',
      'tp--x',
      'tp-_x',
      `tp-${'a'.repeat(29)}`,
      'tp-Alice',
      'tp-a;b',
      'tp-a b',
      'tp-a$b',
      'tp-a/b',
      'tp-a\n',
      'xtp-a',
    ]) {
      rejects(() => assertLogin('login', bad), bad);
    }
  });

  it('takes only $2b$ bcrypt hashes (or none)', () => {
    assert.equal(assertPasswordHash('h', ''), '');
    assert.ok(assertPasswordHash('h', `$2b$12$${'x'.repeat(53)}`));
    for (const bad of [
      `$2a$12$${'x'.repeat(53)}`,
      `$2b$12$${'x'.repeat(52)}`,
      '$6$salt$hash',
      `$2b$12$${'x'.repeat(52)}:`,
    ]) {
      rejects(() => assertPasswordHash('h', bad), bad);
    }
  });

  it('normalises walled-garden entries and drops nested networks', () => {
    assert.equal(assertDomain('d', 'Pay.Example.COM.'), 'pay.example.com');
    rejects(() => assertDomain('d', 'localhost'), 'single label');
    rejects(() => assertDomain('d', 'a_b.example.com'), 'underscore');
    rejects(() => assertDomain('d', '*.example.com'), 'wildcard');
    assert.equal(assertCidr('c', '192.0.2.77/24'), '192.0.2.0/24');
    assert.equal(assertCidr('c', '192.0.2.77/32'), '192.0.2.77');
    assert.equal(assertCidr('c', '2001:db8:1:2::1/48'), '2001:db8:1::/48');
    rejects(() => assertCidr('c', '192.0.2.0/33'), '/33');
    rejects(() => assertCidr('c', '192.0.2.0/0'), '/0 would open everything');
    assert.deepEqual(withoutNested(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '192.0.2.1', '2001:db8::/32']), [
      '10.0.0.0/8',
      '192.0.2.1',
      '2001:db8::/32',
    ]);
  });

  it('bounds session ids', () => {
    assert.equal(assertSessionId('s', 'abc_DEF-123'), 'abc_DEF-123');
    for (const bad of ['', 'a'.repeat(65), 'a b', 'a"b', 'a;b']) rejects(() => assertSessionId('s', bad), bad);
  });
});
