import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { AccountService } from '../../proto/gen/turnpike/provisioner/v1/provisioner.js';
import { addSshKey, removeSshKey } from '../accounts/ssh-keys.js';
import { ManualClock } from '../../shared/clock.js';
import { validateConfig } from '../config/load-config.js';
import type { Plan, Session, Subscription, User } from '../domain/model.js';
import { planRecord } from '../testing/plan-record.js';
import { silentLogger } from '../../shared/logger.js';
import { LowdbStore } from '../store/lowdb-store.js';
import { ed25519KeyLine } from '../testing/ssh-public-keys.js';
import { createProvisioning, type Provisioning } from './create-provisioning.js';
import { accountLoginFor } from './desired-state.js';
import { createProvisionerClient, startEmbeddedProvisioner, type EmbeddedProvisioner } from './embedded-provisioner.js';
import type { ProvisionerClient } from './provisioner-client.js';
import { userRecord } from '../testing/user-record.js';

const T0 = Date.now();

function plan(id: string, services: Plan['services'], over: Partial<Plan> = {}): Plan {
  return planRecord({
    bandwidthUpKbps: 1000,
    bandwidthDownKbps: 4000,
    maxDevices: 3,
    createdAt: T0,
    updatedAt: T0,
    id,
    services,
    ...over,
  });
}

function user(id: string): User {
  return userRecord({ id, email: `${id}@example.com`, passwordHash: `$2b$10$${'b'.repeat(53)}` }, T0);
}

function subscription(id: string, userId: string, planId: string, over: Partial<Subscription> = {}): Subscription {
  return {
    id,
    userId,
    voucherCode: null,
    planId,
    source: 'staff-grant',
    sourceRef: null,
    status: 'active',
    startedAt: T0,
    endsAt: T0 + 3_600_000,
    bytesUsed: 0,
    cancelAtPeriodEnd: false,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

function session(id: string, subscriptionId: string, ip: string, mac: string): Session {
  return {
    id,
    subscriptionId,
    ownerKey: 'user:u1',
    nasId: null,
    acctSessionId: null,
    mode: 'gateway',
    mac,
    ip,
    startedAt: T0,
    lastUpdateAt: T0,
    interimIntervalSeconds: 300,
    inputOctets: 0,
    outputOctets: 0,
    chargedOctets: 0,
    disconnectPendingSince: null,
  };
}

describe('reconcile loop against a real provisioner child process (memory drivers, mTLS)', () => {
  let dir: string;
  let store: LowdbStore;
  let embedded: EmbeddedProvisioner;
  let provisioning: Provisioning;
  let probe: ProvisionerClient;
  const clock = new ManualClock(T0);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-reconcile-'));
    store = await LowdbStore.open({ dir: join(dir, 'var') });
    embedded = await startEmbeddedProvisioner({ tlsDir: join(dir, 'pki'), logger: silentLogger });
    const config = validateConfig(
      {
        dataDir: join(dir, 'var'),
        provisioner: { tlsDir: join(dir, 'pki'), reconcileIntervalSeconds: 5 },
        gateway: { enabled: true, walledGarden: ['pay.example.com', '192.0.2.10', '198.51.100.0/24'] },
      },
      'test',
    );
    provisioning = await createProvisioning({
      config,
      store,
      logger: silentLogger,
      clock,
      extraTargets: [{ site: 'embedded', address: embedded.address }],
    });
    probe = await createProvisionerClient({
      address: embedded.address,
      tlsDir: join(dir, 'pki'),
      logger: silentLogger,
    });
  });

  after(async () => {
    await provisioning?.stop();
    probe?.close();
    await embedded?.stop();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the PKI into a 0700 directory with 0600 files', async () => {
    assert.equal((await stat(join(dir, 'pki'))).mode & 0o777, 0o700);
    for (const f of ['ca.pem', 'ca-key.pem', 'server-key.pem', 'client-key.pem', 'jwt-private.pem', 'jwt-public.pem']) {
      assert.equal((await stat(join(dir, 'pki', f))).mode & 0o777, 0o600, f);
    }
  });

  it('adds missing sessions and accounts, removes orphans, and leaves a converged provisioner alone', async () => {
    await store.update((db) => {
      db.plans.web = plan('web', ['internet']);
      db.plans.shell = plan('shell', ['internet', 'ssh', 'ftp']);
      db.users.u1 = user('u1');
      db.users.u2 = user('u2');
      db.subscriptions.s1 = subscription('s1', 'u1', 'web');
      db.subscriptions.s2 = subscription('s2', 'u2', 'shell');
      db.sessions.a = session('a', 's1', '10.0.0.2', '02:00:00:00:00:02');
      db.sessions.b = session('b', 's2', '10.0.0.3', '02:00:00:00:00:03');
    });
    // Orphans the store knows nothing of: a client and an owned account.
    await probe.allowClient({
      ip: '10.0.0.99',
      mac: '02:00:00:00:00:99',
      seconds: 600,
      upKbps: 0,
      downKbps: 0,
      sessionId: 'gone',
    });
    await probe.ensureAccount({
      login: 'tp-orphan',
      passwordHash: '',
      authorizedKeys: [],
      services: [AccountService.ACCOUNT_SERVICE_FTP],
      expiresAt: 0,
      ftpQuotaBytes: 0,
    });

    const [first] = await provisioning.reconciler.reconcileOnce();
    assert.deepEqual(
      {
        allowed: first?.allowed,
        revoked: first?.revoked,
        ensured: first?.ensured,
        deleted: first?.deleted,
        gardenSet: first?.gardenSet,
        failures: first?.failures,
      },
      { allowed: 2, revoked: 1, ensured: 1, deleted: 1, gardenSet: true, failures: 0 },
    );
    const state = await probe.getState();
    assert.deepEqual(state.clients.map((c) => [c.ip, c.sessionId, c.upKbps, c.downKbps]).sort(), [
      ['10.0.0.2', 'a', 1000, 4000],
      ['10.0.0.3', 'b', 1000, 4000],
    ]);
    assert.deepEqual(
      state.accounts.map((a) => [a.login, a.suspended, a.expiresAt]),
      [[accountLoginFor('u2'), false, Math.ceil((T0 + 3_600_000) / 1000)]],
    );
    assert.deepEqual(state.walledGardenDomains, ['pay.example.com']);
    assert.deepEqual(state.walledGardenCidrs, ['192.0.2.10', '198.51.100.0/24']);

    const [second] = await provisioning.reconciler.reconcileOnce();
    assert.equal(
      (second?.allowed ?? 0) +
        (second?.revoked ?? 0) +
        (second?.ensured ?? 0) +
        (second?.deleted ?? 0) +
        (second?.gardenSet ? 1 : 0),
      0,
      'a converged provisioner gets no calls',
    );
  });

  it('re-adds an entry the provisioner lost, and revokes a session whose subscription ended', async () => {
    await probe.revokeClient({ ip: '10.0.0.2', mac: '', sessionId: '' });
    await store.update((db) => {
      db.subscriptions.s2!.status = 'expired';
    });
    const [r] = await provisioning.reconciler.reconcileOnce();
    assert.equal(r?.allowed, 1);
    assert.equal(r?.revoked, 1);
    assert.equal(r?.suspended, 1, 'ended subscription → account suspended');
    const state = await probe.getState();
    assert.deepEqual(
      state.clients.map((c) => c.ip),
      ['10.0.0.2'],
    );
    assert.equal(state.accounts[0]?.suspended, true);
  });

  it('lifts the suspension when the subscription is active again and deletes the account when the user goes', async () => {
    await store.update((db) => {
      db.subscriptions.s2!.status = 'active';
    });
    await provisioning.reconciler.reconcileOnce();
    assert.equal((await probe.getState()).accounts[0]?.suspended, false);
    await store.update((db) => {
      delete db.subscriptions.s2;
      delete db.users.u2;
    });
    const [r] = await provisioning.reconciler.reconcileOnce();
    assert.equal(r?.deleted, 1);
    assert.deepEqual((await probe.getState()).accounts, []);
  });

  it('counts an unreachable provisioner as a failure and converges once it is back', async () => {
    const offline = await createProvisioning({
      config: validateConfig(
        { dataDir: join(dir, 'var'), provisioner: { tlsDir: join(dir, 'pki'), callTimeoutMs: 300 } },
        'test',
      ),
      store,
      logger: silentLogger,
      extraTargets: [{ site: 'down', address: '127.0.0.1:1' }],
    });
    const [r] = await offline.reconciler.reconcileOnce();
    assert.equal(r?.reachable, false);
    assert.equal(r?.failures, 1);
    await offline.stop();
  });

  it("re-ensures an account with the owner's keys when a key is added, and without it once removed", async () => {
    await store.update((db) => {
      db.plans.shell = plan('shell', ['internet', 'ssh', 'ftp']);
      db.users.u3 = user('u3');
      db.subscriptions.s3 = subscription('s3', 'u3', 'shell');
    });
    await provisioning.reconciler.reconcileOnce();
    const client = provisioning.router.all()[0]!.client;
    const ensure = mock.method(client, 'ensureAccount');
    try {
      const key = await addSshKey(store, clock, 'u3', `  ${ed25519KeyLine('ada@phone')}\n`);
      const [added] = await provisioning.reconciler.reconcileOnce();
      assert.equal(added?.failures, 0, 'the provisioner accepts the key the domain accepted');
      assert.deepEqual(
        ensure.mock.calls.map((c) => [c.arguments[0].login, c.arguments[0].authorizedKeys]),
        [[accountLoginFor('u3'), [key.line]]],
      );

      await provisioning.reconciler.reconcileOnce();
      assert.equal(ensure.mock.callCount(), 1, 'unchanged keys → no new call');

      await removeSshKey(store, clock, 'u3', key.id);
      const [removed] = await provisioning.reconciler.reconcileOnce();
      assert.equal(removed?.ensured, 1);
      assert.deepEqual(ensure.mock.calls[1]?.arguments[0].authorizedKeys, []);
    } finally {
      ensure.mock.restore();
    }
  });

  it('serves the guest journey through the gRPC access port', async () => {
    await provisioning.accessPort.allowClient({
      ip: '10.0.0.50',
      mac: '02:00:00:00:00:50',
      seconds: 120,
      upKbps: 0,
      downKbps: 0,
      sessionId: 'z',
    });
    assert.ok((await probe.listClients()).clients.some((c) => c.ip === '10.0.0.50'));
    await provisioning.accessPort.revokeClient({ ip: '10.0.0.50', mac: '02:00:00:00:00:50', sessionId: 'z' });
    assert.ok(!(await probe.listClients()).clients.some((c) => c.ip === '10.0.0.50'));
    await assert.rejects(
      provisioning.accessPort.allowClient({
        ip: 'not-an-ip',
        mac: '02:00:00:00:00:50',
        seconds: 120,
        upKbps: 0,
        downKbps: 0,
        sessionId: 'z',
      }),
      /TP_ERR|not an IPv4/,
    );
  });
});
