/**
 * The composition root: builds the store, the domain services and every door
 * (portal, RADIUS, provisioner client, payments), starts them in order and
 * stops them in reverse. Nothing here decides policy; it only wires.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../shared/clock.js';
import { loadConfig, type LoadedConfig } from './config/load-config.js';
import type { Config } from './config/schema.js';
import { seedEmbeddedDefaults } from './embedded-defaults.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createMetrics, instrumentStore } from './metrics.js';
import { createApplianceMetrics } from './telemetry/appliance-metrics.js';
import { startMonitoringListener } from './telemetry/monitoring-listener.js';
import { traceStoreUpdates } from './telemetry/store-spans.js';
import { startTracing } from '../shared/telemetry/tracing.js';
import { Leases } from './leases/leases.js';
import { Scheduler } from './scheduler.js';
import { backupBeforeMigration, writeDailyBackup } from './backups/store-backups.js';
import { loadOrCreateSecrets } from './secrets.js';
import { createServices, type ApplianceServices } from './services.js';
import { openConfiguredStore } from './open-store.js';
import type { Store } from './store/store.js';
import { listenAdminSocket } from './cli/admin-socket.js';
import { findStoreCommand } from './cli/store-commands.js';
import { outboxDirOf } from './mail/mail-port.js';
import { initPki } from './pki/pki-store.js';
import { startProvisioning, type Provisioning } from './provisioning/start-provisioning.js';
import { tlsDirOf } from './provisioning/create-provisioning.js';
import { StoreAccessPolicy } from './sessions/access-policy.js';
import { resetDueQuotas } from './quotas/quota-resets.js';
import { SessionEnforcer } from './sessions/enforcer.js';
import { startSessionSweeper } from './sessions/sweeper.js';
import { NasObservations } from './nas/nas-observations.js';
import { flushNasTrust } from './nas/nas-trust.js';
import { expireDue } from './subscriptions/subscriptions.js';
import { pruneFreeTierUses } from './subscriptions/free-tier.js';
import { redeemVoucher } from './vouchers/redeem.js';
import { startPayments, type RunningPayments } from './payments/start-payments.js';
import { buildPortal } from '../portal/portal.js';
import { startEmbeddedStripeFake } from '../portal/stripe-fake/embedded-fake.js';
import { authenticationFor } from '../portal/auth/create-authentication.js';
import { portalAccountsFrom } from '../portal/pages/portal-accounts.js';
import {
  createDynamicAuthorizationClient,
  createRadiusMetrics,
  instrumentDynamicAuthorization,
  startRadiusServer,
  type RadiusServer,
} from '../radius/index.js';
import { tolerateDeniedInterfaceList } from './sandboxed-interfaces.js';

export interface StartApplianceOptions {
  config: Config;
  configSource: string | null;
  embedded: boolean;
  /** Unix socket for CLI commands while running; null disables it (tests). */
  adminSocket: string | null;
  clock?: Clock;
  logger?: Logger;
  /** Where the start banner goes (stdout in the CLI). */
  out?: (line: string) => void;
}

export interface RunningAppliance {
  portal: FastifyInstance;
  portalUrl: string;
  /** The monitoring listener (`/metrics`, `/healthz`, `/readyz`), apart from the guests' port. */
  metricsUrl: string;
  radius: RadiusServer | null;
  store: Store;
  services: ApplianceServices;
  firstAdmin: { email: string; oneTimePassword: string } | null;
  localNasSecret: string | null;
  payments: RunningPayments | null;
  stop(): Promise<void>;
}

/** Stops what was started, last first, even when starting failed half-way. */
class Shutdown {
  readonly #steps: Array<{ name: string; run: () => Promise<void> | void }> = [];
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(name: string, run: () => Promise<void> | void): void {
    this.#steps.push({ name, run });
  }

  async run(): Promise<void> {
    for (const step of this.#steps.reverse()) {
      try {
        await step.run();
      } catch (err) {
        this.#logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    this.#steps.length = 0;
  }
}

function listeningUrl(app: FastifyInstance, config: Config): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return config.portal.publicUrl;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
}

export async function startAppliance(options: StartApplianceOptions): Promise<RunningAppliance> {
  const { config, embedded } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const out = options.out ?? (() => undefined);
  const dataDir = resolve(config.dataDir);
  const tracing = await startTracing(config.telemetry);
  // Migrations run as the store opens: first the files as the older version left them are copied.
  const preMigration = await backupBeforeMigration(dataDir, config.backup, new Date(clock.now()));
  if (preMigration) logger.info({ backup: preMigration }, 'store files copied before migrating them');
  const store = await openConfiguredStore(config, logger);
  const shutdown = new Shutdown(logger);
  // Added first, so it runs last: the spans of every other step's shutdown are sent too.
  shutdown.add('tracing', () => tracing.shutdown());
  shutdown.add('store', () => store.close());
  if (tracing.enabled) traceStoreUpdates(store);
  try {
    const secrets = await loadOrCreateSecrets(dataDir);
    const metrics = createMetrics();
    instrumentStore(store, metrics);
    const applianceMetrics = createApplianceMetrics({
      registry: metrics.registry,
      store,
      dataDir,
      tlsDir: tlsDirOf({ ...config, dataDir }),
    });
    const radiusMetrics = createRadiusMetrics(metrics.registry);
    const services = await createServices({ config, store, clock, logger, metrics });
    shutdown.add('accounts', () => services.accounts.close());
    const firstAdmin = await services.accounts.users.ensureFirstAdmin();
    const localNasSecret = embedded ? (await seedEmbeddedDefaults(store, clock)).localNasSecret : null;

    const provisioning: Provisioning = await startProvisioning({
      config,
      dataDir,
      store,
      clock,
      logger,
      onReconciled: (report) => applianceMetrics.reconciled(report),
    });
    shutdown.add('provisioning', () => provisioning.stop());
    // A guest's new SSH key reaches their host account now, not at the next periodic reconcile.
    services.accounts.sshKeys.onChanged(() => provisioning.reconcileSoon());

    let radius: RadiusServer | null = null;
    const dynamicAuthorization = instrumentDynamicAuthorization(
      createDynamicAuthorizationClient({
        clock,
        logger,
        timeoutMs: config.radius.coaTimeoutMs,
        retries: config.radius.coaRetries,
        // A NAS configured by CIDR is reached at the address its packets last came from.
        addressOf: (nas) => radius?.lastAddressOf(nas.id) ?? null,
      }),
      radiusMetrics,
    );
    shutdown.add('dynamic authorization', () => dynamicAuthorization.close());
    const enforcer = new SessionEnforcer({
      store,
      clock,
      port: dynamicAuthorization,
      logger,
      gateway:
        config.gateway.enabled && provisioning.accessPort
          ? { accessPort: provisioning.accessPort, openEndedSeconds: config.gateway.openEndedSessionSeconds }
          : null,
    });

    // Appliances sharing a store take turns through leases in it: one leads each periodic job.
    const leases = new Leases({ store, clock });
    const scheduler = new Scheduler(logger, { leases, onRun: (job, ok, s) => applianceMetrics.jobRan(job, ok, s) });
    shutdown.add('scheduler (after a failed start)', () => scheduler.stop());

    const payments = await startPayments({
      config,
      embedded,
      store,
      clock,
      logger,
      enforcer,
      leases,
      scheduler,
      gatewayChanged: () => provisioning.reconcileSoon(),
      startEmbeddedFake: startEmbeddedStripeFake,
    });
    if (payments) shutdown.add('payments', () => payments.stop());

    const readiness = [{ name: 'store', check: () => store.isWritable() }, ...provisioning.readiness];
    const auth = authenticationFor(services.accounts, { store, clock, logger, config });
    const guest = {
      store,
      clock,
      config,
      logger,
      accounts: portalAccountsFrom(services.accounts.flows, services.accounts.sshKeys),
      accessPort: provisioning.accessPort,
      secret: secrets.cookieSecret,
      // A top-up redeemed on the status page lifts the throttle of the guest's live sessions at once.
      limitsChanged: (subscriptionId: string) => enforcer.refreshLimits(subscriptionId),
    };
    const portal = await buildPortal({
      config,
      logger,
      metrics,
      authenticator: auth.authenticator,
      cookieSecret: secrets.cookieSecret,
      readiness,
      authRoutes: auth.routes,
      guest,
      staff: { store, clock, enforcer },
      admin: { store, clock, enforcer, accounts: services.accounts, provisioners: () => provisioning.sites() },
      ...(payments ? { payments: payments.payments } : {}),
    });
    tolerateDeniedInterfaceList();
    await portal.listen({ host: config.portal.host, port: config.portal.port });
    shutdown.add('portal', () => portal.close());
    const portalUrl = listeningUrl(portal, config);
    const monitoring = await startMonitoringListener({
      host: config.telemetry.metricsHost,
      port: config.telemetry.metricsPort,
      bearerToken: config.telemetry.metricsBearerToken,
      registry: metrics.registry,
      readiness,
    });
    shutdown.add('monitoring listener', () => monitoring.close());
    await payments?.portalListening(portalUrl);

    if (config.radius.enabled) {
      const nasObservations = new NasObservations();
      // What this process saw of each NAS goes to the shared trust rows; every appliance flushes its own
      // (and once more at stop, after the RADIUS sockets closed).
      const flushTrust = (): Promise<number> => flushNasTrust(store, clock, nasObservations);
      scheduler.add({ name: 'flush NAS trust figures', everyMs: 30_000, everyAppliance: true, run: flushTrust });
      shutdown.add('NAS trust figures', () =>
        flushTrust().then(
          () => undefined,
          (err: unknown) => logger.warn({ err }, 'NAS trust figures not flushed at stop'),
        ),
      );
      const policy = new StoreAccessPolicy({
        store,
        clock,
        verifyPassword: (password, hash) => services.accounts.verifyPassword(password, hash),
        passwordCacheSeconds: config.radius.passwordCacheSeconds,
        redeemVoucher,
      });
      radius = await startRadiusServer({
        config: config.radius,
        store,
        clock,
        logger,
        policy,
        enforcer,
        metrics: radiusMetrics,
        observations: nasObservations,
      });
      shutdown.add('radius', () => radius?.close());
      startSessionSweeper({ store, clock, enforcer, logger, staleFactor: config.radius.staleFactor, scheduler });
    }

    scheduler.add({ name: 'expire subscriptions', everyMs: 60_000, run: () => expireDue(store, clock) });
    scheduler.add({
      name: 'reset usage periods',
      everyMs: 60_000,
      run: async () => {
        for (const subscriptionId of await resetDueQuotas(store, clock)) await enforcer.refreshLimits(subscriptionId);
      },
    });
    scheduler.add({ name: 'prune free-tier uses', everyMs: 3_600_000, run: () => pruneFreeTierUses(store, clock) });
    // Hourly, so a day's backup is taken within an hour of midnight however long the box runs.
    scheduler.add({
      name: 'daily backup',
      everyMs: 3_600_000,
      run: () => writeDailyBackup(dataDir, store.db, config.backup, new Date(clock.now())),
    });
    // Stopped first on a clean stop (steps run last first): jobs finish before what they use closes,
    // and their leases pass to the other appliances at once.
    shutdown.add('scheduler', () => scheduler.stop());

    if (options.adminSocket) {
      const context = { config, store, clock, logger, services };
      const socket: Server = await listenAdminSocket(options.adminSocket, async (argv) => {
        const found = findStoreCommand(argv);
        if (!found) throw new Error(`unknown command "${argv.join(' ')}"`);
        return found.command.run(context, found.args);
      });
      shutdown.add('admin socket', () => new Promise<void>((done) => socket.close(() => done())));
    }

    out(`Turnpike is running${embedded ? ' (embedded default)' : ''}.`);
    out(`  Portal:       ${portalUrl}/`);
    out(`  Console:      ${portalUrl}/admin`);
    out(`  API:          ${portalUrl}/api/v1/openapi.json`);
    out(`  Metrics:      ${monitoring.url}/metrics${config.telemetry.metricsBearerToken ? ' (bearer token)' : ''}`);
    if (tracing.enabled) out(`  Traces:       OTLP/HTTP to ${config.telemetry.otlpEndpoint}`);
    if (radius) {
      out(
        `  RADIUS:       ${config.radius.listen.join(', ')} — auth ${radius.authPort}, accounting ${radius.acctPort}`,
      );
    }
    if (localNasSecret) out(`  NAS "local":  127.0.0.1, shared secret ${localNasSecret}`);
    if (payments?.fakeUrl) out(`  Stripe fake:  ${payments.fakeUrl} (test card 4242 4242 4242 4242)`);
    out(`  Mail outbox:  ${config.mail.smtpUrl ? 'SMTP' : outboxDirOf(config)}`);
    if (firstAdmin) {
      out(`  First admin:  ${firstAdmin.email}`);
      out(`  One-time password (shown once): ${firstAdmin.oneTimePassword}`);
      out(`  Sign in at ${portalUrl}/admin; you will be asked to change it and enrol MFA.`);
    }

    return {
      portal,
      portalUrl,
      metricsUrl: monitoring.url,
      radius,
      store,
      services,
      firstAdmin,
      localNasSecret,
      payments,
      stop: () => shutdown.run(),
    };
  } catch (err) {
    await shutdown.run();
    throw err;
  }
}

export interface InitOptions {
  loaded: LoadedConfig;
  configFile: string;
  dataDir?: string;
  adminEmail?: string;
  publicUrl?: string;
}

/**
 * `turnpike init`: a production configuration, secrets, the provisioner PKI
 * and the first admin. Seeds no plans and no NAS clients.
 */
export async function initAppliance(options: InitOptions): Promise<string[]> {
  const lines: string[] = [];
  const configFile = resolve(options.configFile);
  if (!existsSync(configFile)) {
    await mkdir(dirname(configFile), { recursive: true, mode: 0o750 });
    const doc = {
      dataDir: options.dataDir ?? options.loaded.config.dataDir,
      portal: { publicUrl: options.publicUrl ?? options.loaded.config.portal.publicUrl },
      // turnpike-provisioner.service listens here on the same box; other sites are added beside it.
      provisioner: { targets: [{ site: 'local', address: '127.0.0.1:50051' }] },
    };
    await writeFile(configFile, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o640 });
    lines.push(`wrote ${configFile}`);
  } else {
    lines.push(`kept existing ${configFile}`);
  }
  const { config } = loadConfig({ file: configFile });
  const dataDir = resolve(config.dataDir);
  const logger = createLogger({ level: 'warn' });
  const store = await openConfiguredStore(config, logger);
  try {
    await loadOrCreateSecrets(dataDir);
    const tlsDir = tlsDirOf({ ...config, dataDir });
    await initPki({ dir: tlsDir, serverNames: config.provisioner.tlsServerNames });
    lines.push(`store, secrets and provisioner certificates in ${dataDir}`);
    const services = await createServices({ config, store, clock: systemClock, logger });
    try {
      const admin = await services.accounts.users.ensureFirstAdmin(
        options.adminEmail ? { email: options.adminEmail } : {},
      );
      if (admin) {
        lines.push(`first admin: ${admin.email}`);
        lines.push(`one-time password (shown once): ${admin.oneTimePassword}`);
      } else {
        lines.push('an admin already exists; no new account created');
      }
    } finally {
      await services.accounts.close();
    }
  } finally {
    await store.close();
  }
  lines.push(`start it with: turnpike --config ${configFile} start`);
  return lines;
}
