import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Plan, Session, Subscription, User } from '../domain/model.js';
import { planRecord } from '../testing/plan-record.js';
import { emptyDb } from '../store/migrations.js';
import { dsaKeyLine, ed25519KeyLine } from '../testing/ssh-public-keys.js';
import { accountLoginFor, desiredAccounts, desiredClients } from './desired-state.js';
import { userRecord } from '../testing/user-record.js';

const NOW = Date.UTC(2026, 5, 1);

function plan(id: string, over: Partial<Plan> = {}): Plan {
  return planRecord({ bandwidthUpKbps: 1000, bandwidthDownKbps: 5000, maxDevices: 2, id, ...over });
}

function sub(id: string, planId: string, over: Partial<Subscription> = {}): Subscription {
  return {
    id,
    userId: 'u1',
    voucherCode: null,
    planId,
    source: 'payment',
    sourceRef: null,
    status: 'active',
    startedAt: NOW,
    endsAt: NOW + 600_000,
    bytesUsed: 0,
    cancelAtPeriodEnd: false,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

function session(id: string, subscriptionId: string, ip: string | null, mode: Session['mode'] = 'gateway'): Session {
  return {
    id,
    subscriptionId,
    ownerKey: 'user:u1',
    nasId: null,
    acctSessionId: null,
    mode,
    mac: '02:00:00:00:00:01',
    ip,
    startedAt: NOW,
    lastUpdateAt: NOW,
    interimIntervalSeconds: 300,
    inputOctets: 0,
    outputOctets: 0,
    chargedOctets: 0,
    disconnectPendingSince: null,
  };
}

const user: User = userRecord({
  id: 'u1',
  email: 'a@example.com',
  displayName: 'A',
  passwordHash: `$2b$10$${'c'.repeat(53)}`,
});

describe('desired provisioner state from the store', () => {
  it('allows live gateway sessions for their remaining time and plan rates; skips controller-mode and address-less ones', () => {
    const db = emptyDb();
    db.plans.p = plan('p');
    db.plans.open = plan('open', {
      quotaBytes: 1000,
      onQuotaExhausted: { action: 'throttle', upKbps: 64, downKbps: 128 },
    });
    db.subscriptions.s = sub('s', 'p');
    db.subscriptions.o = sub('o', 'open', { endsAt: null, bytesUsed: 5000 });
    db.subscriptions.x = sub('x', 'p', { status: 'expired' });
    db.sessions.a = session('a', 's', '10.0.0.2');
    db.sessions.b = session('b', 'o', '10.0.0.3');
    db.sessions.c = session('c', 'x', '10.0.0.4');
    db.sessions.d = session('d', 's', '10.0.0.5', 'controller');
    db.sessions.e = session('e', 's', null);
    const out = desiredClients(db, NOW, { openEndedSeconds: 3600 });
    assert.deepEqual([...out.keys()].sort(), ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(out.get('10.0.0.2'), {
      ip: '10.0.0.2',
      mac: '02:00:00:00:00:01',
      sessionId: 'a',
      seconds: 600,
      upKbps: 1000,
      downKbps: 5000,
    });
    assert.equal(out.get('10.0.0.3')?.seconds, 3600, 'open-ended: renewed by the loop');
    assert.deepEqual(
      [out.get('10.0.0.3')?.upKbps, out.get('10.0.0.3')?.downKbps],
      [64, 128],
      'quota spent → throttle rates',
    );
  });

  it('ensures an account for ssh/ftp plans, merging services and keeping the latest end; ended → suspended; none → absent', () => {
    const db = emptyDb();
    db.users.u1 = user;
    db.plans.web = plan('web');
    db.plans.ssh = plan('ssh', { services: ['internet', 'ssh'] });
    db.plans.ftp = plan('ftp', { services: ['ftp'] });
    db.subscriptions.a = sub('a', 'ssh', { endsAt: NOW + 1_000_000 });
    db.subscriptions.b = sub('b', 'ftp', { endsAt: NOW + 9_000_000 });
    db.subscriptions.c = sub('c', 'web');
    db.subscriptions.v = sub('v', 'ssh', { userId: null, voucherCode: 'V' });
    const login = accountLoginFor('u1');
    assert.match(login, /^tp-[0-9a-f]{12}$/);
    assert.deepEqual(desiredAccounts(db, NOW, { ftpQuotaBytes: 10 }).get(login), {
      login,
      status: 'active',
      passwordHash: user.passwordHash,
      authorizedKeys: [],
      services: ['ftp', 'ssh'],
      expiresAt: Math.ceil((NOW + 9_000_000) / 1000),
      ftpQuotaBytes: 10,
    });
    assert.equal(desiredAccounts(db, NOW, { ftpQuotaBytes: 10 }).size, 1, 'voucher guests get no host account');

    db.subscriptions.a!.status = 'expired';
    db.subscriptions.b!.status = 'cancelled';
    assert.equal(desiredAccounts(db, NOW, { ftpQuotaBytes: 10 }).get(login)?.status, 'suspended');
    db.subscriptions.a!.status = 'active';
    db.users.u1 = { ...user, disabled: true };
    assert.equal(
      desiredAccounts(db, NOW, { ftpQuotaBytes: 10 }).get(login)?.status,
      'suspended',
      'a disabled user is suspended',
    );
    delete db.users.u1;
    assert.equal(desiredAccounts(db, NOW, { ftpQuotaBytes: 10 }).size, 0);
  });

  it('carries the owner’s key lines in order, leaving out one the parser no longer accepts', () => {
    const db = emptyDb();
    const good = [ed25519KeyLine('one'), ed25519KeyLine('two')];
    const key = (line: string, id: string) => ({ id, line, fingerprint: id, addedAt: 0 });
    db.users.u1 = { ...user, sshKeys: [key(good[0]!, 'a'), key(dsaKeyLine(), 'b'), key(good[1]!, 'c')] };
    db.plans.ssh = plan('ssh', { services: ['ssh'] });
    db.subscriptions.a = sub('a', 'ssh', { endsAt: NOW + 1_000_000 });
    assert.deepEqual(desiredAccounts(db, NOW, { ftpQuotaBytes: 0 }).get(accountLoginFor('u1'))?.authorizedKeys, good);
  });
});
