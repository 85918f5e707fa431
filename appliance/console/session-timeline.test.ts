import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Session } from '../domain/model.js';
import { tempStore } from '../testing/temp-store.js';
import { sessionTimeline } from './session-timeline.js';

const session: Session = {
  id: 'nas1:abc',
  subscriptionId: 'sub1',
  ownerKey: 'voucher:CODE',
  nasId: 'nas1',
  acctSessionId: 'abc',
  mode: 'controller',
  mac: 'aa:bb:cc:dd:ee:01',
  ip: '10.1.0.7',
  startedAt: 10_000,
  lastUpdateAt: 40_000,
  interimIntervalSeconds: 300,
  inputOctets: 0,
  outputOctets: 0,
  chargedOctets: 0,
  disconnectPendingSince: null,
};

test('a session timeline merges its accounting, CoA/Disconnect outcomes and staff actions, oldest first, and nothing of other sessions', async (t) => {
  const store = await tempStore(t, 'tp-timeline-');
  const accounting = { nasId: 'nas1', acctSessionId: 'abc', subscriptionId: 'sub1', mac: null, ip: null };
  const counters = { inputOctets: 0, outputOctets: 0, sessionTime: null, interimIntervalSeconds: 300 };
  await store
    .history('accounting')
    .append({ at: 5_000, ...accounting, ...counters, status: 'Start', sessionId: 'nas1:abc', terminateCause: null });
  await store
    .history('accounting')
    .append({ at: 10_000, ...accounting, ...counters, status: 'Start', sessionId: 'nas1:abc', terminateCause: null });
  await store.history('accounting').append({
    at: 20_000,
    ...accounting,
    ...counters,
    status: 'Interim-Update',
    sessionId: 'nas1:other',
    terminateCause: null,
  });
  await store.history('accounting').append({
    at: 30_000,
    ...accounting,
    ...counters,
    status: 'Interim-Update',
    sessionId: 'nas1:abc',
    terminateCause: null,
  });
  await store.history('coa').append({
    at: 35_000,
    kind: 'coa',
    reason: 'limits-changed',
    sessionId: 'nas1:abc',
    outcome: 'nak',
    errorCauseName: 'Session-Context-Not-Found',
  });
  await store.history('audit').append({
    at: 34_000,
    action: 'subscription.extended',
    actorId: 'staff1',
    target: 'CODE',
    ip: null,
    details: { sessionId: 'nas1:abc' },
  });
  await store.history('audit').append({
    at: 36_000,
    action: 'session.kicked',
    actorId: 'staff1',
    target: 'X',
    ip: null,
    details: { sessionId: 'nas1:zzz' },
  });
  const { events, truncated } = await sessionTimeline(store, session);
  assert.equal(truncated, false);
  assert.deepEqual(
    events.map((event) => [event.at, event.kind, event.what, event.detail]),
    [
      [10_000, 'started', 'controller', 'aa:bb:cc:dd:ee:01'],
      [10_000, 'accounting', 'Start', ''],
      [30_000, 'accounting', 'Interim-Update', ''],
      [34_000, 'staff', 'subscription.extended', 'staff1'],
      [35_000, 'coa', 'nak', 'limits-changed · Session-Context-Not-Found'],
    ],
  );
});
