import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { LowdbStore } from '../store/lowdb-store.js';
import {
  addNasClient,
  findNasClientForAddress,
  listNasClients,
  removeNasClient,
  updateNasClient,
} from './nas-clients.js';

describe('NAS clients', () => {
  let dir: string;
  let store: LowdbStore;
  const clock = new ManualClock();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnpike-nas-'));
    store = await LowdbStore.open({ dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds a NAS with a generated secret and safe defaults, and lists it', async () => {
    const nas = await addNasClient(store, clock, { name: 'lobby-ap', source: '10.0.0.0/24' });
    assert.ok(nas.secret.length >= 20, 'a strong secret was generated');
    assert.equal(nas.dialect, 'generic');
    assert.equal(nas.coaPort, 3799);
    assert.equal(nas.requireMessageAuthenticator, true);
    assert.deepEqual(
      listNasClients(store).map((client) => client.name),
      ['lobby-ap'],
    );
  });

  it('refuses a duplicate name, an already covered identical source, and malformed input', async () => {
    await assert.rejects(addNasClient(store, clock, { name: 'lobby-ap', source: '10.9.9.9' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_CONFLICT'),
    );
    await assert.rejects(addNasClient(store, clock, { name: 'other', source: '10.0.0.0/24' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_CONFLICT'),
    );
    await assert.rejects(addNasClient(store, clock, { name: 'bad', source: '10.0.0.0/33' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_VALIDATION'),
    );
    await assert.rejects(addNasClient(store, clock, { name: 'bad', source: 'example.org' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_VALIDATION'),
    );
    await assert.rejects(addNasClient(store, clock, { name: 'bad', source: '10.1.1.1', secret: 'short' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_VALIDATION'),
    );
    await assert.rejects(addNasClient(store, clock, { name: 'bad', source: '10.1.1.1', coaPort: 0 }), (err) =>
      isTurnpikeError(err, 'TP_ERR_VALIDATION'),
    );
  });

  it('matches source addresses by CIDR, IPv4 and IPv6, the most specific prefix winning', async () => {
    await addNasClient(store, clock, { name: 'gateway', source: '10.0.0.1', secret: 'a-long-secret' });
    await addNasClient(store, clock, { name: 'v6-site', source: '2001:db8:1::/48', secret: 'a-long-secret' });
    await addNasClient(store, clock, { name: 'v6-host', source: '2001:db8:1::7', secret: 'a-long-secret' });
    const name = (ip: string): string | undefined => findNasClientForAddress(store.db, ip)?.name;
    assert.equal(name('10.0.0.77'), 'lobby-ap');
    assert.equal(name('10.0.0.1'), 'gateway');
    assert.equal(name('::ffff:10.0.0.77'), 'lobby-ap', 'v4-mapped source from a dual-stack socket');
    assert.equal(name('10.0.1.1'), undefined);
    assert.equal(name('2001:db8:1:ffff::1'), 'v6-site');
    assert.equal(name('2001:db8:1:0:0:0:0:7'), 'v6-host');
    assert.equal(name('2001:db8:2::1'), undefined);
    assert.equal(name('not-an-address'), undefined);
  });

  it('removes a NAS by name or id', async () => {
    const removed = await removeNasClient(store, clock, 'gateway');
    assert.equal(removed.name, 'gateway');
    assert.equal(findNasClientForAddress(store.db, '10.0.0.1')?.name, 'lobby-ap');
    const v6 = listNasClients(store).find((client) => client.name === 'v6-host')!;
    await removeNasClient(store, clock, v6.id);
    await assert.rejects(removeNasClient(store, clock, 'gateway'), (err) => isTurnpikeError(err, 'TP_ERR_NOT_FOUND'));
  });

  it('edits a NAS: new settings and secret, the same checks as adding, and no clash with another NAS', async () => {
    const first = await addNasClient(store, clock, { name: 'edit-a', source: '192.0.2.10' });
    await addNasClient(store, clock, { name: 'edit-b', source: '192.0.2.11' });
    const { before: was, after: now } = await updateNasClient(store, clock, first.id, {
      dialect: 'mikrotik',
      coaPort: 1700,
      secret: 'rotated-secret-1',
    });
    assert.equal(was.dialect, 'generic');
    assert.deepEqual(
      [now.name, now.source, now.dialect, now.coaPort, now.secret],
      ['edit-a', '192.0.2.10', 'mikrotik', 1700, 'rotated-secret-1'],
    );
    assert.equal(store.db.nasClients[first.id]!.coaPort, 1700);
    await assert.rejects(updateNasClient(store, clock, first.id, { name: 'edit-b' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_CONFLICT'),
    );
    await assert.rejects(updateNasClient(store, clock, first.id, { source: '192.0.2.11/32' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_CONFLICT'),
    );
    await assert.rejects(updateNasClient(store, clock, first.id, { secret: 'short' }), (err) =>
      isTurnpikeError(err, 'TP_ERR_VALIDATION'),
    );
    await assert.rejects(updateNasClient(store, clock, 'nope', { coaPort: 1 }), (err) =>
      isTurnpikeError(err, 'TP_ERR_NOT_FOUND'),
    );
  });
});
