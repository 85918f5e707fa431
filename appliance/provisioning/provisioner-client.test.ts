import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HealthCheckResponse_ServingStatus } from '../../proto/gen/grpc/health/v1/health.js';
import { MemoryAccountDriver, MemoryFirewallDriver } from '../../provisioner/drivers/memory.js';
import { startProvisionerServer, type RunningProvisioner } from '../../provisioner/server/start-server.js';
import { type TurnpikeError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { initPki, loadJwtPublicKey, loadServerTls } from '../pki/pki-store.js';
import { createProvisionerClient } from './embedded-provisioner.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('provisioner client: health checking and reconnecting with back-off', () => {
  let dir: string;
  const firewall = new MemoryFirewallDriver();

  async function serve(listen: string): Promise<RunningProvisioner> {
    return startProvisionerServer({
      listen,
      tls: await loadServerTls(join(dir, 'pki')),
      jwtPublicKey: await loadJwtPublicKey(join(dir, 'pki', 'jwt-public.pem')),
      firewall,
      accounts: new MemoryAccountDriver(),
      firewallName: 'memory',
      accountsName: 'memory',
      logger: silentLogger,
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-client-'));
    await initPki({ dir: join(dir, 'pki') });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('turns unhealthy when the provisioner goes away, fails calls as UNAVAILABLE, and recovers when it is back', async () => {
    let server = await serve('127.0.0.1:0');
    const address = server.address;
    const client = await createProvisionerClient({
      address,
      tlsDir: join(dir, 'pki'),
      logger: silentLogger,
      callTimeoutMs: 500,
      healthIntervalMs: 100,
      backoff: { initialMs: 50, maxMs: 400 },
    });
    try {
      client.start();
      await until('healthy', () => client.healthy);

      await server.stop();
      await until('unhealthy', () => !client.healthy);
      await assert.rejects(
        client.allowClient({
          ip: '10.0.0.2',
          mac: '02:00:00:00:00:02',
          seconds: 60,
          upKbps: 0,
          downKbps: 0,
          sessionId: 's',
        }),
        (e: TurnpikeError) => e.code === 'TP_ERR_UNAVAILABLE',
      );

      server = await serve(address);
      await until('healthy again', () => client.healthy);
      await client.allowClient({
        ip: '10.0.0.2',
        mac: '02:00:00:00:00:02',
        seconds: 60,
        upKbps: 0,
        downKbps: 0,
        sessionId: 's',
      });
      assert.equal((await client.listClients()).clients.length, 1);
    } finally {
      client.close();
      await server.stop();
    }
  });

  it('reports NOT_SERVING as unhealthy', async () => {
    const server = await serve('127.0.0.1:0');
    const client = await createProvisionerClient({
      address: server.address,
      tlsDir: join(dir, 'pki'),
      logger: silentLogger,
    });
    try {
      assert.equal(await client.checkHealth(), true);
      server.health.set('turnpike.provisioner.v1.Provisioner', HealthCheckResponse_ServingStatus.NOT_SERVING);
      assert.equal(await client.checkHealth(), false);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
