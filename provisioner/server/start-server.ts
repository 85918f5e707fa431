import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { CryptoKey, KeyObject } from 'jose';
import { Registry } from 'prom-client';
import type { Logger } from '../../shared/logger.js';
import { HealthService } from '../../proto/gen/grpc/health/v1/health.js';
import { ProvisionerService, type ProvisionerServer } from '../../proto/gen/turnpike/provisioner/v1/provisioner.js';
import type { AccountDriver, FirewallDriver } from '../drivers/driver.js';
import { authWrapper } from './auth-wrapper.js';
import { deadlineWrapper } from './deadline-wrapper.js';
import { HealthState } from './health-service.js';
import { loggingWrapper } from './logging-wrapper.js';
import { metricsWrapper } from './metrics-wrapper.js';
import { createProvisionerHandlers, type ProvisionerHandlers } from './provisioner-handlers.js';
import { tracingWrapper } from './tracing-wrapper.js';
import { toGrpc, type Wrapper } from './unary.js';

export const PROVISIONER_SERVICE_NAME = 'turnpike.provisioner.v1.Provisioner';

export interface ProvisionerServerOptions {
  /** `host:port`; port 0 picks a free one (read it from the result). */
  listen: string;
  tls: { ca: Buffer; cert: Buffer; key: Buffer };
  /** Verifies the appliance's per-call tokens. */
  jwtPublicKey: CryptoKey | KeyObject;
  firewall: FirewallDriver;
  accounts: AccountDriver;
  firewallName: string;
  accountsName: string;
  logger: Logger;
  registry?: Registry;
  /** Upper bound for any one call, whatever deadline the caller sets. */
  maxCallMs?: number;
  /** For tests of token expiry: the time the verifier believes it is. */
  now?: () => number;
}

export interface RunningProvisioner {
  /** `host:port` actually bound. */
  address: string;
  port: number;
  registry: Registry;
  health: HealthState;
  stop(): Promise<void>;
}

/**
 * Starts the gRPC server. Credentials are mTLS only (`checkClientCertificate`
 * = true): a peer without a certificate from our CA never completes the TLS
 * handshake, so no RPC — health included — runs for it.
 */
export async function startProvisionerServer(o: ProvisionerServerOptions): Promise<RunningProvisioner> {
  await o.firewall.start();
  const registry = o.registry ?? new Registry();
  const wrappers: Wrapper[] = [
    tracingWrapper(),
    loggingWrapper(o.logger),
    metricsWrapper(registry),
    authWrapper({ publicKey: o.jwtPublicKey, ...(o.now ? { now: o.now } : {}) }),
    deadlineWrapper({ maxMs: o.maxCallMs ?? 30_000 }),
  ];
  const handlers = createProvisionerHandlers(o);
  const methodNames: Record<keyof ProvisionerHandlers, string> = {
    allowClient: 'AllowClient',
    revokeClient: 'RevokeClient',
    listClients: 'ListClients',
    setWalledGarden: 'SetWalledGarden',
    ensureAccount: 'EnsureAccount',
    suspendAccount: 'SuspendAccount',
    deleteAccount: 'DeleteAccount',
    accountUsage: 'AccountUsage',
    getState: 'GetState',
  };
  const impl = Object.fromEntries(
    (Object.keys(methodNames) as Array<keyof ProvisionerHandlers>).map((k) => [
      k,
      toGrpc(methodNames[k], handlers[k] as ProvisionerHandlers['getState'], wrappers),
    ]),
  ) as unknown as ProvisionerServer;

  const health = new HealthState([PROVISIONER_SERVICE_NAME]);
  // Nothing reads channelz here; off, a call does not keep its counters and timestamps.
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  server.addService(ProvisionerService, impl);
  server.addService(HealthService, health.server() as unknown as UntypedServiceImplementation);

  const credentials = ServerCredentials.createSsl(o.tls.ca, [{ cert_chain: o.tls.cert, private_key: o.tls.key }], true);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.listen, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const host = o.listen.slice(0, o.listen.lastIndexOf(':'));
  const address = `${host}:${port}`;
  o.logger.info({ address, firewall: o.firewallName, accounts: o.accountsName }, 'provisioner listening');

  return {
    address,
    port,
    registry,
    health,
    async stop() {
      health.shutdown();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await o.firewall.close();
    },
  };
}
