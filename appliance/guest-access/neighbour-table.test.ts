import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArpLookup, macFromArpTable } from './neighbour-table.js';

const TABLE = `IP address       HW type     Flags       HW address            Mask     Device
10.77.0.5        0x1         0x2         AA:BB:CC:00:00:05     *        br-guest
10.77.0.6        0x1         0x0         00:00:00:00:00:00     *        br-guest
`;

test('the gateway learns a guest’s MAC from the ARP table; incomplete entries and strangers give nothing', () => {
  assert.equal(macFromArpTable('10.77.0.5', TABLE), 'aa:bb:cc:00:00:05');
  assert.equal(macFromArpTable('10.77.0.6', TABLE), null);
  assert.equal(macFromArpTable('10.77.0.7', TABLE), null);
});

test('one read of the ARP table answers a crowd for a moment; a guest who just joined is read for again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-arp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'arp');
  await writeFile(path, TABLE);
  let clock = 0;
  const lookup = createArpLookup(path, { maxAgeMs: 250, missRereadMs: 20, now: () => clock });
  assert.equal(lookup('10.77.0.5'), 'aa:bb:cc:00:00:05');
  await writeFile(path, TABLE.replace('AA:BB:CC:00:00:05', 'AA:BB:CC:00:00:55') + ARRIVAL);
  clock = 10;
  assert.equal(lookup('10.77.0.5'), 'aa:bb:cc:00:00:05', 'the read of 10 ms ago answers');
  assert.equal(lookup('10.77.0.9'), null, 'a read 10 ms old is not read again for a stranger');
  clock = 30;
  assert.equal(lookup('10.77.0.9'), 'aa:bb:cc:00:00:09', 'a newcomer causes a fresh read');
  assert.equal(lookup('10.77.0.5'), 'aa:bb:cc:00:00:55', 'which also brings changed entries');
  await writeFile(path, TABLE);
  clock = 300;
  assert.equal(lookup('10.77.0.5'), 'aa:bb:cc:00:00:05', 'past its age a read is made again');
  await rm(path);
  clock = 600;
  assert.equal(lookup('10.77.0.5'), null, 'no table: no MAC');
});

const ARRIVAL = `10.77.0.9        0x1         0x2         AA:BB:CC:00:00:09     *        br-guest
`;
