import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { type TurnpikeError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import {
  initPki,
  loadClientTls,
  loadJwtPublicKey,
  loadJwtSigningKey,
  loadServerTls,
} from '../../appliance/pki/pki-store.js';
import { signCallToken } from '../../appliance/provisioning/call-token.js';
import { ProvisionerClient } from '../../appliance/provisioning/provisioner-client.js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../proto/gen/grpc/health/v1/health.js';
import { AccountService, ProvisionerClient as RawClient } from '../../proto/gen/turnpike/provisioner/v1/provisioner.js';
import type { FirewallDriver } from '../drivers/driver.js';
import { MemoryAccountDriver, MemoryFirewallDriver } from '../drivers/memory.js';
import { startProvisionerServer, type RunningProvisioner } from './start-server.js';

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function mpint(b64url: string): Buffer {
  let b = Buffer.from(b64url, 'base64url');
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

function rsaPublicLine(bits: number): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
  return `ssh-rsa ${blob.toString('base64')} guest@laptop`;
}

function ed25519PublicLine(): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(Buffer.from(jwk.x!, 'base64url'))]);
  return `ssh-ed25519 ${blob.toString('base64')}`;
}

/** Our server certificates carry this name; verifying it avoids SNI with an IP address. */
const NAME = { 'grpc.ssl_target_name_override': 'turnpike-provisioner' };
const HASH = `$2b$10$${'a'.repeat(53)}`;

describe('provisioner gRPC server (mTLS + call tokens, memory drivers)', () => {
  let dir: string;
  let server: RunningProvisioner;
  let firewall: MemoryFirewallDriver;
  let accounts: MemoryAccountDriver;
  let client: ProvisionerClient;
  let jwtKey: KeyObject;
  let slowFirewall: RunningProvisioner;

  /** A raw generated client with our certificate; the test sets the metadata itself. */
  async function rawClient(pkiDir: string, address: string): Promise<RawClient> {
    const tls = await loadClientTls(pkiDir);
    return new RawClient(address, credentials.createSsl(tls.ca, tls.key, tls.cert), NAME);
  }

  function allowWith(raw: RawClient, metadata: Metadata): Promise<ServiceError | null> {
    const req = { ip: '10.0.0.9', mac: '02:00:00:00:00:09', seconds: 60, upKbps: 0, downKbps: 0, sessionId: 's9' };
    return new Promise((resolve) =>
      raw.allowClient(req, metadata, { deadline: Date.now() + 5000 }, (err) => resolve(err)),
    );
  }

  function bearer(token: string): Metadata {
    const m = new Metadata();
    m.set('authorization', `Bearer ${token}`);
    return m;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-prov-'));
    await initPki({ dir: join(dir, 'pki') });
    await initPki({ dir: join(dir, 'other-pki') });
    firewall = new MemoryFirewallDriver();
    accounts = new MemoryAccountDriver({ foreignLogins: ['root', 'tp-legacy'] });
    jwtKey = await loadJwtSigningKey(join(dir, 'pki'));
    server = await startProvisionerServer({
      listen: '127.0.0.1:0',
      tls: await loadServerTls(join(dir, 'pki')),
      jwtPublicKey: await loadJwtPublicKey(join(dir, 'pki', 'jwt-public.pem')),
      firewall,
      accounts,
      firewallName: 'memory',
      accountsName: 'memory',
      logger: silentLogger,
    });
    client = new ProvisionerClient({
      address: server.address,
      tls: await loadClientTls(join(dir, 'pki')),
      jwtKey,
      logger: silentLogger,
    });
  });

  after(async () => {
    client.close();
    await server.stop();
    await slowFirewall?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers grpc.health.v1 Check as SERVING to a peer with our client certificate', async () => {
    const tls = await loadClientTls(join(dir, 'pki'));
    const health = new HealthClient(server.address, credentials.createSsl(tls.ca, tls.key, tls.cert), NAME);
    const res = await new Promise<{ status: number }>((resolve, reject) =>
      health.check({ service: 'turnpike.provisioner.v1.Provisioner' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    health.close();
    assert.equal(res.status, HealthCheckResponse_ServingStatus.SERVING);
    assert.equal(await client.checkHealth(), true);
  });

  it('refuses a client certificate issued by another CA, and changes nothing', async () => {
    const foreign = await loadClientTls(join(dir, 'other-pki'));
    const ours = await loadClientTls(join(dir, 'pki'));
    // Trusts our server (our CA) but presents a certificate from the other CA.
    const raw = new RawClient(server.address, credentials.createSsl(ours.ca, foreign.key, foreign.cert), NAME);
    const err = await allowWith(raw, bearer(await signCallToken(jwtKey, { now: Date.now() })));
    raw.close();
    assert.equal(err?.code, status.UNAVAILABLE);
    assert.deepEqual(await firewall.list(), []);
  });

  it('refuses a client that presents no certificate at all', async () => {
    const ours = await loadClientTls(join(dir, 'pki'));
    const raw = new RawClient(server.address, credentials.createSsl(ours.ca), NAME);
    const err = await allowWith(raw, bearer(await signCallToken(jwtKey, { now: Date.now() })));
    raw.close();
    assert.equal(err?.code, status.UNAVAILABLE);
    assert.deepEqual(await firewall.list(), []);
  });

  it('answers UNAUTHENTICATED to a valid certificate with no, expired, wrong-audience, foreign-key or too-long token', async () => {
    const raw = await rawClient(join(dir, 'pki'), server.address);
    const otherKey = await loadJwtSigningKey(join(dir, 'other-pki'));
    const now = Date.now();
    const cases: Array<[string, Metadata]> = [
      ['no token', new Metadata()],
      [
        'not a bearer',
        (() => {
          const m = new Metadata();
          m.set('authorization', 'Basic eDp5');
          return m;
        })(),
      ],
      ['expired', bearer(await signCallToken(jwtKey, { now: now - 120_000, lifetimeSeconds: 30 }))],
      ['wrong audience', bearer(await signCallToken(jwtKey, { now, audience: 'portal' }))],
      ['signed by another key', bearer(await signCallToken(otherKey, { now }))],
      ['lifetime over 60 s', bearer(await signCallToken(jwtKey, { now, lifetimeSeconds: 3600 }))],
      ['garbage', bearer('abc.def.ghi')],
    ];
    for (const [name, metadata] of cases) {
      const err = await allowWith(raw, metadata);
      assert.equal(err?.code, status.UNAUTHENTICATED, name);
    }
    raw.close();
    assert.deepEqual(await firewall.list(), [], 'no refused call reached the driver');
    const ok = await allowWith(
      await rawClient(join(dir, 'pki'), server.address),
      bearer(await signCallToken(jwtKey, { now })),
    );
    assert.equal(ok, null, 'the same call with a good token succeeds');
    await client.revokeClient({ ip: '10.0.0.9', mac: '', sessionId: '' });
  });

  it('allowing twice leaves one entry with the later time; revoking the unknown succeeds', async () => {
    const req = {
      ip: '10.0.0.2',
      mac: '02-00-00-00-00-02',
      seconds: 60,
      upKbps: 512,
      downKbps: 2048,
      sessionId: 'sess-1',
    };
    await client.allowClient(req);
    await client.allowClient({ ...req, seconds: 600 });
    const { clients } = await client.listClients();
    assert.equal(clients.length, 1);
    assert.equal(clients[0]?.mac, '02:00:00:00:00:02', 'MAC normalised');
    assert.ok((clients[0]?.remainingSeconds ?? 0) > 500);
    await client.revokeClient({ ip: '10.0.0.77', mac: '02:00:00:00:00:77', sessionId: 'never' });
    await client.revokeClient({ ip: '10.0.0.2', mac: '', sessionId: '' });
    await client.revokeClient({ ip: '10.0.0.2', mac: '', sessionId: '' });
    assert.deepEqual((await client.listClients()).clients, []);
  });

  it('rejects malformed addresses, MACs, times and session ids with INVALID_ARGUMENT', async () => {
    const good = { ip: '10.0.0.3', mac: '02:00:00:00:00:03', seconds: 60, upKbps: 0, downKbps: 0, sessionId: 's3' };
    const bad = [
      { ...good, ip: '10.0.0.300' },
      { ...good, ip: '10.0.0.3; nft flush ruleset' },
      { ...good, ip: 'fe80::1%eth0' },
      { ...good, mac: 'ff:ff:ff:ff:ff:ff' },
      { ...good, mac: '02:00:00:00:00' },
      { ...good, seconds: 0 },
      { ...good, sessionId: 's3" }; flush ruleset; #' },
    ];
    for (const req of bad) {
      await assert.rejects(
        client.allowClient(req),
        (e: TurnpikeError) => e.code === 'TP_ERR_VALIDATION',
        JSON.stringify(req),
      );
    }
    assert.deepEqual((await client.listClients()).clients, []);
    await client.allowClient({ ...good, ip: '2001:DB8:0:0::7' });
    assert.equal((await client.listClients()).clients[0]?.ip, '2001:db8::7', 'IPv6 canonicalised');
    await client.revokeClient({ ip: '2001:db8::7', mac: '', sessionId: '' });
  });

  it('rejects logins with shell metacharacters or without the tp- prefix, creating nothing', async () => {
    for (const login of [
      'tp-a;id',
      'tp-$(id)',
      'tp-a b',
      'tp-`id`',
      'tp-a|b',
      'tp-a\nroot',
      'root',
      'tp-A',
      '../tp-x',
      'tp-',
    ]) {
      await assert.rejects(
        client.ensureAccount({
          login,
          passwordHash: HASH,
          authorizedKeys: [],
          services: [AccountService.ACCOUNT_SERVICE_SSH],
          expiresAt: 0,
          ftpQuotaBytes: 0,
        }),
        (e: TurnpikeError) => e.code === 'TP_ERR_VALIDATION',
        login,
      );
    }
    assert.deepEqual((await client.getState()).accounts, []);
  });

  it('refuses to suspend root or an account it did not create, changing nothing', async () => {
    await assert.rejects(client.suspendAccount('root'), (e: TurnpikeError) => e.code === 'TP_ERR_VALIDATION');
    await assert.rejects(client.suspendAccount('tp-legacy'), (e: TurnpikeError) => e.code === 'TP_ERR_FORBIDDEN');
    await assert.rejects(client.deleteAccount('tp-legacy'), (e: TurnpikeError) => e.code === 'TP_ERR_FORBIDDEN');
    assert.equal(accounts.peek('root')?.suspended, false);
    assert.equal(accounts.peek('tp-legacy')?.suspended, false);
    assert.ok(accounts.peek('tp-legacy'), 'still there');
  });

  it('accepts ed25519 and RSA-2048 keys, refuses DSA, RSA-1024 and key options; ensure converges', async () => {
    const base = {
      login: 'tp-alice',
      passwordHash: HASH,
      authorizedKeys: [] as string[],
      services: [AccountService.ACCOUNT_SERVICE_SSH, AccountService.ACCOUNT_SERVICE_FTP],
      expiresAt: 2_000_000_000,
      ftpQuotaBytes: 1 << 30,
    };
    const ed = ed25519PublicLine();
    const rsa = rsaPublicLine(2048);
    for (const key of [
      `ssh-dss ${'A'.repeat(200)}`,
      rsaPublicLine(1024),
      `command="id" ${ed}`,
      `${ed} evil;comment`,
      `ssh-ed25519 ${rsa.split(' ')[1]}`,
    ]) {
      await assert.rejects(
        client.ensureAccount({ ...base, authorizedKeys: [key] }),
        (e: TurnpikeError) => e.code === 'TP_ERR_VALIDATION',
        key.slice(0, 30),
      );
    }
    await assert.rejects(
      client.ensureAccount({ ...base, passwordHash: '$1$abc$def' }),
      (e: TurnpikeError) => e.code === 'TP_ERR_VALIDATION',
    );
    await client.ensureAccount({ ...base, authorizedKeys: [ed, rsa] });
    await client.ensureAccount({ ...base, authorizedKeys: [ed, rsa] });
    await client.suspendAccount('tp-alice');
    let state = await client.getState();
    assert.deepEqual(state.accounts, [
      {
        login: 'tp-alice',
        services: [AccountService.ACCOUNT_SERVICE_FTP, AccountService.ACCOUNT_SERVICE_SSH],
        suspended: true,
        expiresAt: 2_000_000_000,
        ftpQuotaBytes: 1 << 30,
      },
    ]);
    await client.ensureAccount({ ...base, authorizedKeys: [ed] });
    state = await client.getState();
    assert.equal(state.accounts[0]?.suspended, false, 'ensure lifts a suspension');
    assert.deepEqual(accounts.peek('tp-alice')?.spec.authorizedKeys, [ed]);
    assert.deepEqual(await client.accountUsage({ login: 'tp-alice' }), {
      login: 'tp-alice',
      ftpBytesStored: 0,
      sshLogins: 0,
    });
    await client.deleteAccount('tp-alice');
    await client.deleteAccount('tp-alice');
    await assert.rejects(
      client.accountUsage({ login: 'tp-alice' }),
      (e: TurnpikeError) => e.code === 'TP_ERR_NOT_FOUND',
    );
  });

  it('canonicalises the walled garden and reports it in GetState', async () => {
    await client.setWalledGarden({
      domains: ['Pay.Example.com.', 'pay.example.com'],
      cidrs: ['192.0.2.77/24', '2001:db8::1/32'],
    });
    const state = await client.getState();
    assert.deepEqual(state.walledGardenDomains, ['pay.example.com']);
    assert.deepEqual(state.walledGardenCidrs, ['192.0.2.0/24', '2001:db8::/32']);
    assert.equal(state.firewallDriver, 'memory');
    await assert.rejects(
      client.setWalledGarden({ domains: ['a;b.com'], cidrs: [] }),
      (e: TurnpikeError) => e.code === 'TP_ERR_VALIDATION',
    );
  });

  it('turns an untyped driver failure into INTERNAL without leaking it, and bounds a stuck call by its deadline', async () => {
    const failing: FirewallDriver = Object.assign(new MemoryFirewallDriver(), {
      allow: async () => {
        throw new Error('/usr/sbin/nft: secret host detail');
      },
      revoke: () => new Promise<void>(() => {}),
    });
    slowFirewall = await startProvisionerServer({
      listen: '127.0.0.1:0',
      tls: await loadServerTls(join(dir, 'pki')),
      jwtPublicKey: await loadJwtPublicKey(join(dir, 'pki', 'jwt-public.pem')),
      firewall: failing,
      accounts: new MemoryAccountDriver(),
      firewallName: 'failing',
      accountsName: 'memory',
      logger: silentLogger,
      maxCallMs: 200,
    });
    const c = new ProvisionerClient({
      address: slowFirewall.address,
      tls: await loadClientTls(join(dir, 'pki')),
      jwtKey,
      logger: silentLogger,
    });
    await assert.rejects(
      c.allowClient({ ip: '10.0.0.5', mac: '02:00:00:00:00:05', seconds: 5, upKbps: 0, downKbps: 0, sessionId: 'x' }),
      (e: TurnpikeError) =>
        e.code === 'TP_ERR_INTERNAL' && !e.message.includes('secret') && e.details?.grpcCode === status.INTERNAL,
    );
    const started = Date.now();
    await assert.rejects(
      c.revokeClient({ ip: '10.0.0.5', mac: '', sessionId: '' }),
      (e: TurnpikeError) => e.details?.grpcCode === status.DEADLINE_EXCEEDED,
    );
    assert.ok(Date.now() - started < 2000);
    c.close();
    const metrics = await slowFirewall.registry.getSingleMetricAsString('turnpike_provisioner_rpc_total');
    assert.match(metrics, /method="AllowClient",code="INTERNAL"\} 1/);
    assert.match(metrics, /method="RevokeClient",code="DEADLINE_EXCEEDED"\} 1/);
  });
});
