import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { validateConfig } from '../config/load-config.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import type { MailMessage } from '../mail/mail-port.js';
import { createMetrics } from '../metrics.js';
import { LowdbStore } from '../store/lowdb-store.js';
import { createAccountService, type AccountService } from './account-service.js';

async function withService(
  run: (accounts: AccountService, store: LowdbStore, sent: MailMessage[]) => Promise<void>,
  overrides: Record<string, unknown> = {},
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-accounts-'));
  const store = await LowdbStore.open({ dir });
  const sent: MailMessage[] = [];
  const accounts = await createAccountService({
    store,
    clock: new ManualClock(Date.now()),
    config: validateConfig({ dataDir: dir, ...overrides }, 'test'),
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
    mail: { send: async (message) => void sent.push(message) },
  });
  try {
    await run(accounts, store, sent);
  } finally {
    await accounts.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('the CLI surface: create with a role, list, set-role, disable — audited', async () => {
  await withService(async (accounts, store) => {
    const op = await accounts.users.createUser({ email: 'Op@Example.test', role: 'operator' }, null);
    assert.equal(op.user.email, 'op@example.test');
    assert.equal(op.user.mustChangePassword, true);
    assert.match(op.oneTimePassword!, /^[a-z2-9]{20}$/);
    assert.match(store.db.users[op.user.id]!.passwordHash, /^\$2b\$12\$/, 'staff hashes use the staff cost (12)');
    const guest = await accounts.users.createUser(
      { email: 'g@example.test', role: 'guest', password: 'a perfectly good passphrase' },
      null,
    );
    assert.equal(guest.oneTimePassword, null);
    assert.match(store.db.users[guest.user.id]!.passwordHash, /^\$2b\$10\$/, 'guest hashes use the guest cost (10)');

    assert.deepEqual(
      accounts.users.listUsers().users.map((u) => u.email),
      ['g@example.test', 'op@example.test'],
      'oldest first, then by email',
    );
    assert.equal(accounts.users.listUsers({ role: 'guest' }).total, 1);
    assert.equal((await accounts.users.setRole('g@example.test', 'admin')).role, 'admin');
    assert.equal((await accounts.users.setDisabled(op.user.id, true)).disabled, true);
    assert.equal(accounts.users.getUser('op@example.test').disabled, true);

    await assert.rejects(accounts.users.createUser({ email: 'OP@example.test', role: 'guest' }, null), (err) =>
      isTurnpikeError(err, 'TP_ERR_CONFLICT'),
    );
    await assert.rejects(accounts.users.setRole('nobody@example.test', 'admin'), (err) =>
      isTurnpikeError(err, 'TP_ERR_NOT_FOUND'),
    );
    await assert.rejects(
      accounts.users.setDisabled('g@example.test', true),
      (err) => isTurnpikeError(err, 'TP_ERR_CONFLICT'),
      'the last enabled admin cannot be disabled',
    );

    const audit = await store.history('audit').readAll();
    assert.deepEqual(
      audit.map((record) => record.action),
      ['user.created', 'user.created', 'user.updated', 'user.updated'],
    );
    assert.ok(!JSON.stringify(audit).includes(op.oneTimePassword!), 'no secret in the audit log');
  });
});

test('ensureFirstAdmin creates admin@turnpike.local once, or the given email', async () => {
  await withService(async (accounts, store) => {
    const first = await accounts.users.ensureFirstAdmin({ email: 'boss@example.test' });
    assert.equal(first?.email, 'boss@example.test');
    const admin = Object.values(store.db.users)[0]!;
    assert.equal(admin.role, 'admin');
    assert.equal(admin.mustChangePassword, true);
    assert.equal(await accounts.users.ensureFirstAdmin(), null);
    const login = await accounts.flows.login(
      { email: first!.email, password: first!.oneTimePassword },
      { ip: '127.0.0.1' },
    );
    assert.equal(login.status, 'ok');
  });
  await withService(async (accounts) => {
    assert.equal((await accounts.users.ensureFirstAdmin())?.email, 'admin@turnpike.local');
  });
});

test('an Ed25519 signing key exists from the start', async () => {
  await withService(async (accounts, store) => {
    assert.equal(store.db.signingKeys.length, 1);
    const kid = accounts.keys.activeKid;
    assert.ok(kid);
    assert.equal(store.db.signingKeys[0]!.alg, 'EdDSA');
    assert.equal(store.db.signingKeys[0]!.publicJwk.crv, 'Ed25519');
  });
});
