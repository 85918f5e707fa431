import type { Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import type { Db } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { paymentWalledGarden } from '../payments/walled-garden.js';
import type { AccessPort } from './access-port.js';
import { createProvisioning, tlsDirOf } from './create-provisioning.js';
import { startEmbeddedProvisioner } from './embedded-provisioner.js';
import type { SiteHealth } from './provisioner-health.js';
import type { ReconcileReport } from './reconciler.js';

export interface Provisioning {
  /** The gateway-mode firewall door; null in controller mode. */
  accessPort: AccessPort | null;
  /** "Provisioner reachable", for /readyz. */
  readiness: Array<{ name: string; check(): Promise<boolean> }>;
  /** Starts a reconcile round now (an entitlement changed); a no-op without provisioners. */
  reconcileSoon(): void;
  /** Per-site provisioner health for the console's dashboard; empty without provisioners. */
  sites(): SiteHealth[];
  stop(): Promise<void>;
}

/**
 * The appliance side of the provisioner, as config asks: the embedded
 * memory-driver child (`npm start`), configured gateway hosts, or none at all
 * (controller mode with no SSH/FTP hosts).
 */
export async function startProvisioning(options: {
  config: Config;
  dataDir: string;
  store: { readonly db: Readonly<Db> };
  clock: Clock;
  logger: Logger;
  /** Hears each target's report of every reconcile round, the first included (metrics). */
  onReconciled?: (report: ReconcileReport) => void;
}): Promise<Provisioning> {
  const { config, logger } = options;
  // In gateway mode an unauthenticated guest must reach the checkout host to pay.
  const walledGarden = [...new Set([...config.gateway.walledGarden, ...paymentWalledGarden(config.payments)])];
  const placed = { ...config, dataDir: options.dataDir, gateway: { ...config.gateway, walledGarden } };
  if (!config.provisioner.embedded && config.provisioner.targets.length === 0) {
    if (config.gateway.enabled) {
      throw new TurnpikeError('TP_ERR_CONFIG', 'gateway.enabled needs a provisioner: set provisioner.targets');
    }
    return {
      accessPort: null,
      readiness: [],
      reconcileSoon: () => undefined,
      sites: () => [],
      stop: async () => undefined,
    };
  }
  const embedded = config.provisioner.embedded
    ? await startEmbeddedProvisioner({
        tlsDir: tlsDirOf(placed),
        logger: logger.child({ component: 'provisioner' }),
        tracing: config.telemetry,
      })
    : null;
  try {
    const provisioning = await createProvisioning({
      config: placed,
      store: options.store,
      logger: logger.child({ component: 'provisioning' }),
      clock: options.clock,
      extraTargets: embedded ? [{ site: 'embedded', address: embedded.address }] : [],
    });
    if (options.onReconciled) provisioning.reconciler.onReport(options.onReconciled);
    provisioning.start();
    return {
      accessPort: config.gateway.enabled ? provisioning.accessPort : null,
      readiness: [
        {
          name: 'provisioner',
          check: async () => provisioning.router.all().every((target) => target.client.healthy),
        },
      ],
      reconcileSoon: () => provisioning.reconciler.kick(),
      sites: () => provisioning.health.sites(),
      async stop() {
        await provisioning.stop();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}
