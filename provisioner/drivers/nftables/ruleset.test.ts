import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowScript, assertInterfaceName, baseRuleset, decodeComment, encodeComment, limitName } from './ruleset.js';

describe('nft script text', () => {
  it('refuses interface names that could carry nft syntax', () => {
    assert.equal(assertInterfaceName('wlan0'), 'wlan0');
    for (const bad of ['', 'eth0" accept', 'a b', 'x;flush', 'waytoolonginterface0']) {
      assert.throws(() => assertInterfaceName(bad), /not an interface name/, bad);
    }
    assert.throws(() => baseRuleset({ lanInterface: 'eth0"', portalIp: '10.0.0.1', portalPort: 80 }));
  });

  it('keeps session metadata in the element comment and reads it back', () => {
    const meta = { sessionId: 'abc-1', mac: '02:00:00:00:00:01', upKbps: 512, downKbps: 0 };
    assert.deepEqual(decodeComment(encodeComment(meta)), meta);
    assert.deepEqual(decodeComment(undefined), { sessionId: '', mac: '', upKbps: 0, downKbps: 0 });
  });

  it('refreshes an entry in one transaction, carrying counters and naming limit objects by address', () => {
    const text = allowScript({
      ip: '2001:db8::5',
      mac: '02:00:00:00:00:05',
      seconds: 90,
      macSeconds: 120,
      upKbps: 1000,
      downKbps: 0,
      sessionId: 's',
      packets: 7,
      bytes: 900,
    });
    assert.match(
      text,
      /add element inet turnpike allowed_v6 \{ 2001:db8::5 counter packets 7 bytes 900 timeout 90s comment/,
    );
    assert.match(text, /add element inet turnpike allowed_mac \{ 02:00:00:00:00:05 timeout 120s \}/);
    assert.match(text, /add limit inet turnpike up_2001_db8__5 \{ rate over 125000 bytes\/second burst 31250 bytes \}/);
    assert.doesNotMatch(text, /add element inet turnpike down_v6 \{ 2001:db8::5 timeout/, 'no download limit when 0');
    assert.equal(limitName('down', '10.0.0.2'), 'down_10_0_0_2');
  });
});
