import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import bcrypt from 'bcryptjs';
import { ManualClock } from '../../shared/clock.js';
import { chapDigest } from '../credentials/chap.js';
import type { Plan } from '../domain/model.js';
import { createLoginContext, type StoreAccessPolicyOptions } from '../sessions/access-policy.js';
import type { CredentialProof, LoginContext, LoginRequest } from '../sessions/login/login-mechanism.js';
import type { LowdbStore } from '../store/lowdb-store.js';
import { planRecord } from './plan-record.js';
import { subscriptionRecord } from './subscription-record.js';
import { tempStore } from './temp-store.js';
import { userRecord } from './user-record.js';

export const LOGIN_PASSWORD = 'correct horse battery';
export const PHONE_MAC = '02:00:00:00:00:01';
export const LAPTOP_MAC = '02:00:00:00:00:02';

export interface LoginScenario {
  store: LowdbStore;
  clock: ManualClock;
  context: LoginContext;
  /** bcrypt checks made so far (the password cache should keep this low). */
  bcryptCalls: () => number;
}

/**
 * A store in which every login mechanism has something to find: guest@example.org (password
 * LOGIN_PASSWORD, an hour of a one-device plan, a phone remembered by MAC), disabled@example.org,
 * an unused single-use voucher TPVOUCHER1 and a portal one-time credential `tp-once` (password
 * `one-time-pass`) minted for the guest's laptop.
 */
export async function loginScenario(
  t: TestContext,
  options: { plan?: Partial<Plan>; redeemVoucher?: StoreAccessPolicyOptions['redeemVoucher'] } = {},
): Promise<LoginScenario> {
  const store = await tempStore(t, 'tp-login-');
  const clock = new ManualClock(1_700_000_000_000);
  const now = clock.now();
  const passwordHash = await bcrypt.hash(LOGIN_PASSWORD, 4);
  await store.update((db) => {
    db.plans.hour = planRecord({ id: 'hour', durationSeconds: 3600, maxDevices: 1, ...options.plan });
    db.users.u1 = userRecord({ id: 'u1', email: 'guest@example.org', passwordHash }, now);
    db.users.u2 = userRecord({ id: 'u2', email: 'disabled@example.org', passwordHash, disabled: true }, now);
    db.subscriptions['sub-u1'] = subscriptionRecord({ id: 'sub-u1', userId: 'u1', planId: 'hour' }, now);
    db.subscriptions['sub-u2'] = subscriptionRecord({ id: 'sub-u2', userId: 'u2', planId: 'hour' }, now);
    db.devices.phone = {
      id: 'phone',
      ownerKey: 'user:u1',
      mac: PHONE_MAC,
      label: 'phone',
      firstSeenAt: now,
      lastSeenAt: now,
    };
    db.voucherBatches.b1 = {
      id: 'b1',
      planId: 'hour',
      count: 1,
      prefix: 'TP',
      multiUse: false,
      maxUses: null,
      validFrom: now - 1000,
      validUntil: now + 86_400_000,
      note: '',
      createdBy: 'staff',
      createdAt: now,
      revokedAt: null,
    };
    db.vouchers.TPVOUCHER1 = {
      code: 'TPVOUCHER1',
      batchId: 'b1',
      planId: 'hour',
      uses: 0,
      firstUsedAt: null,
      revokedAt: null,
    };
    db.portalCredentials['tp-once'] = {
      username: 'tp-once',
      password: 'one-time-pass',
      subscriptionId: 'sub-u1',
      mac: LAPTOP_MAC,
      expiresAt: now + 120_000,
      usedAt: null,
    };
  });
  let calls = 0;
  const context = createLoginContext({
    store,
    clock,
    verifyPassword: (password, hash) => ((calls += 1), bcrypt.compare(password, hash)),
    passwordCacheSeconds: 60,
    ...(options.redeemVoucher ? { redeemVoucher: options.redeemVoucher } : {}),
  });
  return { store, clock, context, bcryptCalls: () => calls };
}

/** A PAP login request as the RADIUS door hands it to the domain. */
export function papLogin(userName: string, password: string, mac: string | null = null): LoginRequest {
  return { userName, proof: { kind: 'pap', password: Buffer.from(password) }, mac, ip: null };
}

/** A CHAP login request: the NAS's response to a random challenge, made with `password` (RFC 1994). */
export function chapLogin(userName: string, password: string, mac: string | null = null): LoginRequest {
  const challenge = randomBytes(16);
  const response = chapDigest(7, password, challenge);
  const proof: CredentialProof = {
    kind: 'chap',
    matches: (candidate) => chapDigest(7, candidate, challenge).equals(response),
  };
  return { userName, proof, mac, ip: null };
}
