import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../shared/clock.js';
import { addNasClient } from '../appliance/nas/nas-clients.js';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import { ClientTable } from './client-table.js';

test('packets from a flood of never-repeating source addresses stay within the memo cap; the NAS still matches', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-clients-'));
  const store = await LowdbStore.open({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const clock = new ManualClock();
  await addNasClient(store, clock, { name: 'chilli', source: '10.1.0.1', dialect: 'coovachilli' });
  const table = new ClientTable(store, () => ({}));
  assert.ok(table.lookup('10.1.0.1', 0));
  for (let i = 0; i < 200_000; i += 1) {
    assert.equal(table.lookup(`2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`, i), null);
  }
  assert.ok(table.size <= 65_536, `${table.size} addresses remembered`);
  assert.ok(table.lookup('10.1.0.1', 200_001), 'the NAS is still found');
});
