import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import type { Db } from '../domain/model.js';
import type { Logger } from '../../shared/logger.js';
import { loadClientTls, loadJwtSigningKey } from '../pki/pki-store.js';
import { GrpcAccessPort } from './grpc-access-port.js';
import { ProvisionerClient } from './provisioner-client.js';
import { ProvisionerHealth } from './provisioner-health.js';
import { ProvisionerRouter, type ProvisionerTarget } from './provisioner-router.js';
import { ProvisioningReconciler } from './reconciler.js';

export interface Provisioning {
  router: ProvisionerRouter;
  accessPort: GrpcAccessPort;
  reconciler: ProvisioningReconciler;
  /** Each site's reachability, last call, last error, certificate expiry and last round, for the console. */
  health: ProvisionerHealth;
  /** Starts health probes and the reconcile loop. */
  start(): void;
  stop(): Promise<void>;
}

/** The PKI directory the config names, or `<dataDir>/pki`. */
export function tlsDirOf(config: Pick<Config, 'dataDir' | 'provisioner'>): string {
  return config.provisioner.tlsDir || join(config.dataDir, 'pki');
}

/**
 * Wires the appliance side from config: one client per `provisioner.targets`
 * entry (plus `extraTargets`, e.g. the embedded child), the router, the gateway
 * access port and the reconcile loop.
 */
export async function createProvisioning(options: {
  config: Pick<Config, 'dataDir' | 'provisioner' | 'gateway'>;
  store: { readonly db: Readonly<Db> };
  logger: Logger;
  clock?: Clock;
  extraTargets?: Array<{ site: string; address: string; clientCidrs?: string[]; accounts?: boolean }>;
}): Promise<Provisioning> {
  const { config, logger } = options;
  const tlsDir = tlsDirOf(config);
  const tls = await loadClientTls(tlsDir);
  const jwtKey = await loadJwtSigningKey(tlsDir);
  const targets: ProvisionerTarget[] = [...config.provisioner.targets, ...(options.extraTargets ?? [])].map((t) => ({
    site: t.site,
    clientCidrs: t.clientCidrs ?? [],
    accounts: t.accounts ?? true,
    client: new ProvisionerClient({
      address: t.address,
      tls,
      jwtKey,
      logger: logger.child({ site: t.site }),
      callTimeoutMs: config.provisioner.callTimeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
    }),
  }));
  const router = new ProvisionerRouter(targets);
  const reconciler = new ProvisioningReconciler({
    store: options.store,
    router,
    config,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    router,
    accessPort: new GrpcAccessPort(router),
    reconciler,
    health: new ProvisionerHealth({ router, reconciler, tls }),
    start() {
      router.start();
      reconciler.start();
    },
    async stop() {
      await reconciler.stop();
      router.close();
    },
  };
}
