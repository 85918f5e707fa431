import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Session } from '../domain/model.js';
import { csvCell, csvLine } from './csv.js';
import { CollectionSnapshots } from './collection-snapshots.js';
import { searchLiveSessions } from './live-sessions.js';

function dbWith(count: number): Db {
  const sessions: Record<string, Session> = {};
  for (let i = 0; i < count; i += 1) {
    const id = `s${String(i).padStart(4, '0')}`;
    sessions[id] = {
      id,
      subscriptionId: 'none',
      ownerKey: `voucher:CODE${i}`,
      nasId: i % 2 === 0 ? 'n1' : null,
      acctSessionId: null,
      mode: i % 2 === 0 ? 'controller' : 'gateway',
      mac: `02:00:00:00:${String(Math.floor(i / 100)).padStart(2, '0')}:${String(i % 100).padStart(2, '0')}`,
      ip: `10.0.${Math.floor(i / 250)}.${i % 250}`,
      startedAt: 1_000 + i,
      lastUpdateAt: 1_000 + i,
      interimIntervalSeconds: 300,
      inputOctets: 0,
      outputOctets: 0,
      chargedOctets: 0,
      disconnectPendingSince: null,
    };
  }
  const nasClients = {
    n1: {
      id: 'n1',
      name: 'lobby',
      source: '10.9.0.1',
      secret: 'x'.repeat(16),
      dialect: 'generic' as const,
      coaPort: 3799,
      requireMessageAuthenticator: true,
      createdAt: 0,
    },
  };
  return { sessions, nasClients, users: {}, subscriptions: {}, plans: {} } as unknown as Db;
}

test('live sessions come newest first, 50 a page, and a search narrows them by voucher, MAC, IP or NAS', () => {
  const db = dbWith(120);
  const snapshots = new CollectionSnapshots({ db, onChange: () => undefined });
  const first = searchLiveSessions(db, snapshots, {}, 0);
  assert.equal(first.total, 120);
  assert.equal(first.pages, 3);
  assert.equal(first.items.length, 50);
  assert.equal(first.items[0]!.id, 's0119');
  const last = searchLiveSessions(db, snapshots, { page: 3 }, 0);
  assert.equal(last.items.length, 20);
  assert.equal(searchLiveSessions(db, snapshots, { page: 99 }, 0).page, 3, 'a page past the end shows the last');
  assert.equal(searchLiveSessions(db, snapshots, { q: 'code7' }, 0).total, 11, 'CODE7, CODE70–79');
  assert.equal(searchLiveSessions(db, snapshots, { q: '02:00:00:00:01:05' }, 0).items[0]!.id, 's0105');
  assert.equal(searchLiveSessions(db, snapshots, { q: '10.0.0.42' }, 0).total, 1);
  assert.equal(searchLiveSessions(db, snapshots, { q: 'LOBBY' }, 0).total, 60);
  assert.equal(
    searchLiveSessions(db, snapshots, { nasId: 'n1', q: 'code1' }, 0).total,
    15,
    'even ones of CODE1, CODE10–19, CODE100–119',
  );
});

test('CSV cells that a spreadsheet would run as a formula are defused', () => {
  for (const start of ['=', '+', '-', '@', '\t', '\r']) {
    assert.ok(csvCell(`${start}1+1`).replace(/^"/, '').startsWith("'"), JSON.stringify(start));
  }
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvLine(['=cmd|x', 3, null]), "'=cmd|x,3,\r\n");
});
