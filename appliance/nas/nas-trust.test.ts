import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../shared/clock.js';
import { LowdbStore } from '../store/lowdb-store.js';
import { registerNasTrustMetrics } from '../telemetry/nas-trust-metrics.js';
import { addNasClient, removeNasClient } from './nas-clients.js';
import { NasObservations } from './nas-observations.js';
import { flushNasTrust, medianOf, nasTrustFigures } from './nas-trust.js';

async function openTemp(t: TestContext): Promise<LowdbStore> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-h13n-trust-'));
  const store = await LowdbStore.open({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

test('two appliances flush what each saw of a NAS into one shared row: counts add, last seen is the latest, gaps pool', async (t) => {
  const store = await openTemp(t);
  const clock = new ManualClock(1_700_000_000_000);
  const nas = await addNasClient(store, clock, { name: 'lobby', source: '192.0.2.10', secret: 'a-long-secret' });
  const a = new NasObservations();
  const b = new NasObservations();
  a.seen(nas.id, clock.now());
  a.accessRequest(nas.id, false, clock.now());
  a.interimGap(nas.id, 290, 300, clock.now());
  a.interimGap(nas.id, 310, 300, clock.now());
  clock.advance(5_000);
  b.seen(nas.id, clock.now());
  b.accessRequest(nas.id, true, clock.now());
  b.interimGap(nas.id, 900, 300, clock.now());
  await flushNasTrust(store, clock, b);
  await flushNasTrust(store, clock, a);

  const figures = nasTrustFigures(store.db, nas.id);
  assert.equal(figures.lastSeenAt, clock.now(), 'the later of the two, whichever flushed last');
  // B's Access-Request came last (with Message-Authenticator), though A flushed last.
  assert.deepEqual(figures.interim, { medianSeconds: 310, configuredSeconds: 300, samples: 3 });
  assert.deepEqual(figures.messageAuthenticator, {
    sendsOnAccessRequest: true,
    signedAccessRequests: 1,
    unsignedAccessRequests: 1,
  });
  assert.equal(await flushNasTrust(store, clock, a), 0, 'nothing new: no write');

  await removeNasClient(store, clock, nas.id);
  assert.equal(store.db.nasTrust?.[nas.id], undefined, 'a removed NAS takes its figures along');
});

test('a flush that cannot write keeps the observations for the next one', async (t) => {
  const store = await openTemp(t);
  const clock = new ManualClock(1_700_000_000_000);
  const nas = await addNasClient(store, clock, { name: 'lobby', source: '192.0.2.10', secret: 'a-long-secret' });
  const seen = new NasObservations();
  seen.accessRequest(nas.id, true, clock.now());
  const failing = { ...store, update: () => Promise.reject(new Error('database away')) } as unknown as LowdbStore;
  await assert.rejects(flushNasTrust(failing, clock, seen), /database away/);
  seen.accessRequest(nas.id, true, clock.now());
  await flushNasTrust(store, clock, seen);
  assert.equal(nasTrustFigures(store.db, nas.id).messageAuthenticator.signedAccessRequests, 2);
});

test('a NAS never heard from has empty figures; the median of an even count is the mean of the middle two', () => {
  assert.equal(medianOf([]), null);
  assert.equal(medianOf([300, 100, 200, 400]), 250);
  const figures = nasTrustFigures({ nasClients: {}, nasTrust: {} } as never, 'unknown');
  assert.equal(figures.lastSeenAt, null);
  assert.equal(figures.interim.medianSeconds, null);
  assert.equal(figures.messageAuthenticator.sendsOnAccessRequest, null);
});

test('the trust figures are metrics with one series per NAS, read from the shared rows', async (t) => {
  const store = await openTemp(t);
  const clock = new ManualClock(1_700_000_000_000);
  const nas = await addNasClient(store, clock, { name: 'lobby', source: '192.0.2.10', secret: 'a-long-secret' });
  const seen = new NasObservations();
  seen.seen(nas.id, clock.now());
  seen.accessRequest(nas.id, true, clock.now());
  seen.interimGap(nas.id, 600, 300, clock.now());
  await flushNasTrust(store, clock, seen);
  await store.update((db) => {
    db.nasTrust![nas.id]!.missingStops = 4;
    db.nasTrust![nas.id]!.acksButKeepsForwarding = 2;
  });
  const registry = new Registry();
  registerNasTrustMetrics(registry, () => store.db);
  const text = await registry.metrics();
  for (const line of [
    'turnpike_nas_last_seen_timestamp_seconds{nas="lobby"} 1700000000',
    'turnpike_nas_interim_gap_median_seconds{nas="lobby"} 600',
    'turnpike_nas_interim_interval_configured_seconds{nas="lobby"} 300',
    'turnpike_nas_message_authenticator_on_access_request{nas="lobby"} 1',
    'turnpike_nas_missing_stops_total{nas="lobby"} 4',
    'turnpike_nas_acks_but_keeps_forwarding_total{nas="lobby"} 2',
  ]) {
    assert.ok(text.includes(line), `${line}\n${text}`);
  }
});
