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

  it('traces where the appliance does: the telemetry environment both units read sets the defaults, flags win', () => {
    const env = {
      TURNPIKE_TELEMETRY_OTLP_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
      TURNPIKE_TELEMETRY_SAMPLING_RATIO: '0.25',
    };
    const o = parseCliOptions(['--tls-dir', 'd'], env);
    assert.equal(o.otlpEndpoint, 'http://127.0.0.1:4318/v1/traces');
    assert.equal(o.traceSampling, 0.25);
    const flagged = parseCliOptions(['--tls-dir', 'd', '--trace-sampling', '1', '--otlp-endpoint', ''], env);
    assert.equal(flagged.otlpEndpoint, '', 'an explicit empty endpoint turns tracing off');
    assert.equal(flagged.traceSampling, 1);
    assert.throws(
      () => parseCliOptions(['--tls-dir', 'd'], { TURNPIKE_TELEMETRY_SAMPLING_RATIO: '2' }),
      /bad --trace-sampling/,
    );
    const off = parseCliOptions(['--tls-dir', 'd'], {});
    assert.equal(off.otlpEndpoint, '', 'off unless configured');
    assert.equal(off.traceSampling, 1);
  });
});
