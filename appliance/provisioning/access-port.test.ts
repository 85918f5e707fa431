import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { MemoryAccessPort } from './access-port.js';

describe('MemoryAccessPort (the gateway access port for tests and the embedded box)', () => {
  const guest = { ip: '10.0.0.2', mac: '02:00:00:00:00:02', seconds: 60, upKbps: 0, downKbps: 0, sessionId: 's1' };

  it('allowing twice keeps one entry with the later time; the entry lapses on the clock', async () => {
    const clock = new ManualClock();
    const port = new MemoryAccessPort({ clock });
    await port.allowClient(guest);
    await port.allowClient({ ...guest, seconds: 120 });
    assert.equal(port.allowed().length, 1);
    clock.advance(90_000);
    assert.ok(port.isAllowed('10.0.0.2'));
    clock.advance(31_000);
    assert.ok(!port.isAllowed('10.0.0.2'));
  });

  it('revoking removes the guest at once, and revoking the unknown succeeds', async () => {
    const port = new MemoryAccessPort();
    await port.allowClient(guest);
    await port.revokeClient({ ip: guest.ip, mac: guest.mac, sessionId: 'other-session' });
    assert.ok(!port.isAllowed(guest.ip), 'keyed by address as well as session');
    await port.revokeClient({ ip: '10.9.9.9', mac: '02:00:00:00:09:09', sessionId: 'never' });
  });
});
