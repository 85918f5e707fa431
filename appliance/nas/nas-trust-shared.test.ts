import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { requirePostgres, startPostgres } from '../testing/postgres-server.js';
import { addNasClient } from './nas-clients.js';
import { NasObservations } from './nas-observations.js';
import { flushNasTrust, nasTrustFigures } from './nas-trust.js';

test('two appliances on one PostgreSQL flush their own observations of a NAS into one row: nothing counted twice or lost', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await startPostgres({ prefix: 'tp-h13n-pg-' });
  t.after(() => server.stop());
  const a = await PostgresStore.open({ url: server.url, pollMs: 100, maxAttempts: 100 });
  t.after(() => a.close());
  const b = await PostgresStore.open({ url: server.url, pollMs: 100, maxAttempts: 100 });
  t.after(() => b.close());
  const clock = new ManualClock(1_700_000_000_000);
  const nas = await addNasClient(a, clock, { name: 'lobby', source: '192.0.2.10', secret: 'a-long-secret' });
  const deadline = Date.now() + 5_000;
  while (!b.db.nasClients[nas.id] && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

  // Both appliances answer the NAS at once (it lists both as RADIUS servers) and flush as they go.
  const seenBy = (store: PostgresStore, signed: boolean) => async (): Promise<void> => {
    const observations = new NasObservations();
    for (let round = 0; round < 20; round++) {
      observations.seen(nas.id, clock.now());
      observations.accessRequest(nas.id, signed, clock.now());
      observations.interimGap(nas.id, 300, 300, clock.now());
      await flushNasTrust(store, clock, observations);
    }
  };
  await Promise.all([seenBy(a, true)(), seenBy(b, false)()]);

  // Each box hears the other's last flush on its next poll: wait for both sides' counts, not only the other's.
  const settled = (store: PostgresStore): boolean => {
    const row = store.db.nasTrust?.[nas.id];
    return row?.accessRequestsSigned === 20 && row.accessRequestsUnsigned === 20;
  };
  for (const store of [a, b]) {
    const reads = Date.now() + 5_000;
    while (!settled(store) && Date.now() < reads) await new Promise((resolve) => setTimeout(resolve, 20));
    const figures = nasTrustFigures(store.db, nas.id);
    assert.equal(figures.messageAuthenticator.signedAccessRequests, 20);
    assert.equal(figures.messageAuthenticator.unsignedAccessRequests, 20);
    assert.equal(figures.interim.samples, 40);
    assert.equal(figures.interim.medianSeconds, 300);
  }
});
