import { test } from 'node:test';
import assert from 'node:assert/strict';
import { macFromArpTable } from './neighbour-table.js';

const TABLE = `IP address       HW type     Flags       HW address            Mask     Device
10.77.0.5        0x1         0x2         AA:BB:CC:00:00:05     *        br-guest
10.77.0.6        0x1         0x0         00:00:00:00:00:00     *        br-guest
`;

test('the gateway learns a guest’s MAC from the ARP table; incomplete entries and strangers give nothing', () => {
  assert.equal(macFromArpTable('10.77.0.5', TABLE), 'aa:bb:cc:00:00:05');
  assert.equal(macFromArpTable('10.77.0.6', TABLE), null);
  assert.equal(macFromArpTable('10.77.0.7', TABLE), null);
});
