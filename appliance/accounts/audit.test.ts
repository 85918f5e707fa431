import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { validateConfig } from '../config/load-config.js';
import { createMetrics } from '../metrics.js';
import { addNasClient, removeNasClient, updateNasClient } from '../nas/nas-clients.js';
import { archivePlan, createPlan, updatePlan } from '../plans/plans.js';
import { SessionEnforcer } from '../sessions/enforcer.js';
import { updateSettings } from '../settings/settings.js';
import type { Store } from '../store/store.js';
import { extendSubscription, grantSubscription, staffGrant } from '../subscriptions/subscriptions.js';
import { tempStore } from '../testing/temp-store.js';
import { createVoucherBatch, revokeVoucher, revokeVoucherBatch } from '../vouchers/batches.js';
import { createAccountService } from './account-service.js';
import { SCHEDULER, SYSTEM, type Actor, type AuditRecord } from './audit.js';

const ADA: Actor = { kind: 'user', id: 'u-ada', email: 'ada@example.test', role: 'admin', ip: '192.0.2.7' };
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);

async function world(t: TestContext) {
  const store = await tempStore(t, 'tp-h11a-audit-');
  const clock = new ManualClock(T0);
  return { store, clock };
}

/** The audit entries written since `mark` entries were there, oldest first. */
async function entriesOf(store: Store): Promise<AuditRecord[]> {
  return store.history<AuditRecord>('audit').readAll();
}

function last(entries: AuditRecord[], action: string): AuditRecord {
  const found = entries.filter((entry) => entry.action === action).at(-1);
  assert.ok(found, `an audit entry ${action}`);
  return found;
}

/** The fields an entry carries about the actor: the whole actor, its id for filters, its address. */
function assertActor(entry: AuditRecord, actor: Actor): void {
  assert.deepEqual(entry.actor, actor);
  assert.equal(entry.actorId, actor.kind === 'user' ? actor.id : null);
  assert.equal(entry.ip, actor.kind === 'user' || actor.kind === 'anonymous' ? actor.ip : null);
}

test('plans: created, edited and retired each leave one entry with the actor and the plan before and after', async (t) => {
  const { store, clock } = await world(t);
  const plan = await createPlan(store, clock, { name: 'Day pass', durationSeconds: 86_400 }, ADA);
  clock.advance(1000);
  await updatePlan(store, clock, plan.id, { priceMinor: 500 }, ADA);
  await archivePlan(store, clock, plan.id, SYSTEM);
  const entries = await entriesOf(store);
  assert.deepEqual(
    entries.map((entry) => entry.action),
    ['plan.created', 'plan.updated', 'plan.retired'],
  );
  const created = last(entries, 'plan.created');
  assertActor(created, ADA);
  assert.equal(created.at, T0);
  assert.equal(created.target, plan.id);
  assert.equal(created.before, undefined, 'nothing was there before');
  assert.deepEqual(created.after, plan);
  const updated = last(entries, 'plan.updated');
  assert.equal((updated.before as { priceMinor: number }).priceMinor, 0);
  assert.equal((updated.after as { priceMinor: number }).priceMinor, 500);
  assert.equal(updated.at, T0 + 1000);
  const retired = last(entries, 'plan.retired');
  assertActor(retired, SYSTEM);
  assert.deepEqual(
    [retired.before, retired.after],
    [
      { archived: false, visible: true },
      { archived: true, visible: false },
    ],
  );
});

test('a refused command leaves no entry: the audit line and the change land together or not at all', async (t) => {
  const { store, clock } = await world(t);
  await createPlan(store, clock, { name: 'Hour' }, ADA);
  await assert.rejects(createPlan(store, clock, { name: 'hour' }, ADA), (err) =>
    isTurnpikeError(err, 'TP_ERR_CONFLICT'),
  );
  await assert.rejects(updatePlan(store, clock, 'no-such-plan', { priceMinor: 1 }, ADA));
  assert.deepEqual(
    (await entriesOf(store)).map((entry) => entry.action),
    ['plan.created'],
  );
});

test('vouchers: a batch made, one code revoked, the batch revoked — each with its actor and before/after', async (t) => {
  const { store, clock } = await world(t);
  const plan = await createPlan(store, clock, { name: 'Hour' });
  const { batch, codes } = await createVoucherBatch(
    store,
    clock,
    { planId: plan.id, count: 3, createdBy: 'u-ada' },
    ADA,
  );
  clock.advance(5000);
  await revokeVoucher(store, clock, codes[0]!, ADA);
  clock.advance(5000);
  await revokeVoucherBatch(store, clock, batch.id, ADA);
  const entries = await entriesOf(store);
  const created = last(entries, 'voucher_batch.created');
  assertActor(created, ADA);
  assert.equal(created.target, batch.id);
  assert.deepEqual(created.after, batch);
  const code = last(entries, 'voucher.revoked');
  assert.equal(code.target, codes[0]);
  assert.deepEqual([code.before, code.after], [{ revokedAt: null }, { revokedAt: T0 + 5000 }]);
  assert.deepEqual(code.details, { batchId: batch.id });
  const revoked = last(entries, 'voucher_batch.revoked');
  assertActor(revoked, ADA);
  assert.deepEqual([revoked.before, revoked.after], [{ revokedAt: null }, { revokedAt: T0 + 10_000 }]);
  assert.deepEqual(revoked.details, { codes: 3 });
});

test('NAS clients: added, edited, removed — the entry keeps the settings before and after, never a secret', async (t) => {
  const { store, clock } = await world(t);
  const nas = await addNasClient(store, clock, { name: 'lobby', source: '10.0.0.1', secret: 'first-secret-1' }, ADA);
  await updateNasClient(store, clock, nas.id, { coaPort: 1700, secret: 'second-secret-2' }, ADA);
  await removeNasClient(store, clock, 'lobby', ADA);
  const entries = await entriesOf(store);
  const shape = {
    name: 'lobby',
    source: '10.0.0.1',
    dialect: 'generic',
    coaPort: 3799,
    requireMessageAuthenticator: true,
  };
  const added = last(entries, 'nas.added');
  assertActor(added, ADA);
  assert.equal(added.target, nas.id);
  assert.deepEqual(added.after, shape);
  const updated = last(entries, 'nas.updated');
  assert.deepEqual([updated.before, updated.after], [shape, { ...shape, coaPort: 1700 }]);
  assert.deepEqual(updated.details, { secretChanged: true });
  const removed = last(entries, 'nas.removed');
  assert.deepEqual([removed.before, removed.after], [{ ...shape, coaPort: 1700 }, undefined]);
  assert.doesNotMatch(JSON.stringify(entries), /first-secret|second-secret/, 'no secret in the audit log');
});

test('settings: the entry holds only the fields that changed, as they were and as they became', async (t) => {
  const { store, clock } = await world(t);
  await updateSettings(store, clock, { venueName: 'Harbour Café', seller: { taxRatePercent: 7 } }, ADA);
  const entry = last(await entriesOf(store), 'settings.updated');
  assertActor(entry, ADA);
  assert.equal(entry.target, 'settings');
  assert.equal((entry.before as { venueName: string }).venueName, 'Turnpike Wi-Fi');
  assert.deepEqual(Object.keys(entry.after as object), ['venueName', 'seller']);
  assert.equal((entry.after as { seller: { taxRatePercent: number } }).seller.taxRatePercent, 7);
});

test('subscriptions: a staff grant and an extension record the plan granted and the end before and after', async (t) => {
  const { store, clock } = await world(t);
  const plan = await createPlan(store, clock, { name: 'Day', durationSeconds: 86_400 });
  await store.update((db) => {
    db.users['u-guest'] = {
      id: 'u-guest',
      email: 'guest@example.test',
      displayName: 'Guest',
      role: 'guest',
      passwordHash: 'x',
      emailVerified: true,
      disabled: false,
      mustChangePassword: false,
      mfa: null,
      sshKeys: [],
      createdAt: T0,
      updatedAt: T0,
    };
  });
  const granted = await staffGrant(store, clock, { userId: 'u-guest', planId: plan.id, staffUserId: 'u-ada' }, ADA);
  const extended = await extendSubscription(store, clock, granted.id, 3600, SCHEDULER);
  const entries = await entriesOf(store);
  const grant = last(entries, 'subscription.granted');
  assertActor(grant, ADA);
  assert.equal(grant.target, 'u-guest');
  assert.deepEqual(grant.details, { subscriptionId: granted.id, planId: plan.id });
  const extension = last(entries, 'subscription.extended');
  assertActor(extension, SCHEDULER);
  assert.deepEqual(
    [extension.before, extension.after],
    [
      { status: 'active', endsAt: T0 + 86_400_000 },
      { status: 'active', endsAt: extended.endsAt },
    ],
  );
  assert.deepEqual(extension.details, { subscriptionId: granted.id, seconds: 3600 });
});

test('sessions: a kick is audited with the NAS answer in the mutation that records it', async (t) => {
  const { store, clock } = await world(t);
  const plan = await createPlan(store, clock, { name: 'Hour' });
  const nas = await addNasClient(store, clock, { name: 'lobby', source: '10.0.0.1' });
  const subscription = await grantSubscription(store, clock, {
    userId: null,
    voucherCode: 'DESK1',
    plan,
    source: 'voucher',
    sourceRef: 'DESK1',
  });
  await store.update((db) => {
    db.sessions['s-1'] = {
      id: 's-1',
      subscriptionId: subscription.id,
      ownerKey: 'voucher:DESK1',
      nasId: nas.id,
      acctSessionId: 'a1',
      mode: 'controller',
      mac: 'aa:bb:cc:dd:ee:01',
      ip: '10.1.0.7',
      startedAt: T0,
      lastUpdateAt: T0,
      interimIntervalSeconds: 300,
      inputOctets: 0,
      outputOctets: 0,
      chargedOctets: 0,
      disconnectPendingSince: null,
    };
  });
  const enforcer = new SessionEnforcer({
    store,
    clock,
    logger: silentLogger,
    port: {
      disconnect: async () => ({ outcome: 'timeout', attempts: 3 }),
      changeAuthorization: async () => ({ outcome: 'ack', attempts: 1 }),
    },
  });
  const outcome = await enforcer.kick('s-1', ADA);
  assert.equal(outcome.result.outcome, 'timeout');
  const kicked = last(await entriesOf(store), 'session.kicked');
  assertActor(kicked, ADA);
  assert.equal(kicked.target, 'voucher:DESK1');
  assert.deepEqual([kicked.before, kicked.after], [{ live: true }, { live: true }], 'unanswered: it waits for the NAS');
  assert.deepEqual(kicked.details, { sessionId: 's-1', nasId: nas.id, mac: 'aa:bb:cc:dd:ee:01', outcome: 'timeout' });
  assert.notEqual(store.db.sessions['s-1']!.disconnectPendingSince, null, 'the same mutation marked it pending');

  await enforcer.kick('gone', ADA);
  const skipped = last(await entriesOf(store), 'session.kicked');
  assert.deepEqual(skipped.details, { sessionId: 'gone', nasId: null, mac: null, outcome: 'skipped' });
});

test('users: created by staff, role changed, MFA reset and disabled — each entry names who and what changed', async (t) => {
  const { store, clock } = await world(t);
  const accounts = await createAccountService({
    store,
    clock,
    config: validateConfig({ dataDir: '/nonexistent-tp-h11a', auth: { bcryptCostStaff: 10 } }, 'test'),
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
    mail: { send: async () => undefined },
  });
  t.after(() => accounts.close());
  await accounts.users.createUser({ email: 'keeper@example.test', role: 'admin' }, null);
  const created = await accounts.users.createUser({ email: 'op@example.test', role: 'operator' }, ADA);
  await accounts.users.setRole(created.user.id, 'admin', ADA);
  await accounts.users.updateUser(created.user.id, { resetMfa: true }, ADA);
  await accounts.users.setDisabled('op@example.test', true, null);
  const entries = (await entriesOf(store)).filter((entry) => entry.target === created.user.id);
  assert.deepEqual(
    entries.map((entry) => entry.action),
    ['user.created', 'user.updated', 'user.updated', 'user.updated'],
  );
  const [made, promoted, reset, disabled] = entries as [AuditRecord, AuditRecord, AuditRecord, AuditRecord];
  assertActor(made, ADA);
  assert.deepEqual(made.after, { email: 'op@example.test', role: 'operator', displayName: 'op' });
  const person = { role: 'operator', disabled: false, displayName: 'op', mfaEnabled: false };
  assert.deepEqual([promoted.before, promoted.after], [person, { ...person, role: 'admin' }]);
  assert.deepEqual(reset.details, { resetMfa: true });
  assertActor(disabled, SYSTEM);
  assert.deepEqual(
    [disabled.before, disabled.after],
    [
      { ...person, role: 'admin' },
      { ...person, role: 'admin', disabled: true },
    ],
  );
  assert.doesNotMatch(JSON.stringify(entries), /\$2b\$/, 'no password hash in the audit log');
});
