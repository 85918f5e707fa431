import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCliOptions } from './cli-options.js';

describe('turnpike-provisioner command line', () => {
  it('defaults to the memory drivers on loopback and the token key beside the certificates', () => {
    const o = parseCliOptions(['--tls-dir', '/etc/turnpike/pki']);
    assert.equal(o.listen, '127.0.0.1:50051');
    assert.equal(o.driver, 'memory');
    assert.equal(o.accounts, 'memory');
    assert.equal(o.jwtPublicKey, '/etc/turnpike/pki/jwt-public.pem');
    assert.equal(o.gardenRefreshSeconds, 300);
  });

  it('refuses the nftables driver without a LAN interface and portal address, and unknown drivers or flags', () => {
    assert.throws(() => parseCliOptions(['--tls-dir', 'd', '--driver', 'nftables']), /needs --lan-if and --portal-ip/);
    assert.throws(() => parseCliOptions(['--tls-dir', 'd', '--driver', 'iptables']), /bad --driver/);
    assert.throws(() => parseCliOptions(['--tls-dir', 'd', '--portal-port', '70000']), /bad --portal-port/);
    assert.throws(() => parseCliOptions(['--tls-dir', 'd', '--shell', 'x']), /Unknown option/);
    assert.throws(() => parseCliOptions([]), /--tls-dir is required/);
    const o = parseCliOptions([
      '--tls-dir',
      'd',
      '--driver',
      'nftables',
      '--lan-if',
      'wlan0',
      '--portal-ip',
      '10.1.0.1',
    ]);
    assert.equal(o.lanInterface, 'wlan0');
  });
});
