/**
 * The crowd scenario of bench:provisioner: GUESTS guests arrive within a few
 * seconds (open loop, evenly spread), each opens the portal and redeems a
 * voucher; in gateway mode the portal asks the provisioner over gRPC/mTLS to
 * open the firewall, which commits the element through the nft session. The
 * portal answers the POST only after that commit, so POST → 303 bounds POST →
 * element present; the elements are then counted in the kernel.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createAccountService } from '../appliance/accounts/account-service.js';
import { systemClock } from '../shared/clock.js';
import { loadConfig } from '../appliance/config/load-config.js';
import { silentLogger } from '../shared/logger.js';
import { OutboxMailPort } from '../appliance/mail/mail-port.js';
import { createMetrics } from '../appliance/metrics.js';
import { createPlan } from '../appliance/plans/plans.js';
import { GrpcAccessPort } from '../appliance/provisioning/grpc-access-port.js';
import type { ProvisionerClient } from '../appliance/provisioning/provisioner-client.js';
import { ProvisionerRouter } from '../appliance/provisioning/provisioner-router.js';
import { LowdbStore } from '../appliance/store/lowdb-store.js';
import { createVoucherBatch } from '../appliance/vouchers/batches.js';
import { createSessionAuthenticator } from '../portal/auth/authenticator.js';
import { portalAccountsFrom } from '../portal/pages/portal-accounts.js';
import { buildPortal } from '../portal/portal.js';
import { FormClient } from '../portal/testing/form-client.js';
import { formatRow, summarize, type LatencySummary } from './stats.js';

export interface BurstResult {
  summary: LatencySummary;
  failures: number;
  /** CPU of this whole process per arrival (every thread: portal, gRPC both ends, nft driver); nft's own CPU is not in it. */
  cpuMicros: number;
}

/** Guest `i`'s address and MAC (the gateway's neighbour table answers with it). */
export function guestAddress(i: number): { ip: string; mac: string } {
  const hex = (0x300000 + i).toString(16).padStart(8, '0');
  return {
    ip: `10.${120 + Math.floor(i / 65_536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
    mac: `02:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`,
  };
}

/** Starts `count` jobs evenly over `spreadMs` (open loop: a slow answer does not delay the next arrival). */
export async function arrivals(
  label: string,
  count: number,
  spreadMs: number,
  job: (i: number) => Promise<boolean>,
): Promise<BurstResult> {
  const latencies: number[] = [];
  let failures = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const runs: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * spreadMs) / count;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    runs.push(
      (async () => {
        const t0 = performance.now();
        const ok = await job(i).catch(() => false);
        if (ok) latencies.push(performance.now() - t0);
        else failures += 1;
      })(),
    );
  }
  await Promise.all(runs);
  const summary = summarize(latencies, performance.now() - started);
  const used = process.cpuUsage(cpu);
  // The queue a crowd sees depends on the machine's other load; CPU per guest does not, so it is printed beside it.
  const cpuMicros = (used.user + used.system) / count;
  console.log(
    `${formatRow(label, summary)}   cpu ${cpuMicros.toFixed(0).padStart(5)} µs/guest${failures ? `  ${failures} failed` : ''}`,
  );
  return { summary, failures, cpuMicros };
}

export interface GatewayPortal {
  /** One guest: open the portal, redeem a voucher; true when the portal answered 303 to the status page. */
  connect(i: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The guest portal in gateway mode, wired as the composition root wires it, talking to `client`. */
export async function startGatewayPortal(
  dirPrefix: string,
  client: ProvisionerClient,
  guests: number,
): Promise<GatewayPortal> {
  const dir = await mkdtemp(dirPrefix);
  const store = await LowdbStore.open({ dir: join(dir, 'store') });
  const clock = systemClock;
  const { config } = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      logLevel: 'silent',
      portal: { publicUrl: 'http://portal.test', rateLimitPerMinute: 1_000_000, authRateLimitPerMinute: 1_000_000 },
      gateway: { enabled: true },
    },
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const accounts = await createAccountService({
    store,
    clock,
    config,
    mail: new OutboxMailPort({ dir: join(dir, 'outbox'), from: config.mail.from, clock }),
    logger: silentLogger,
    metrics,
  });
  const router = new ProvisionerRouter([{ site: 'gw', client, clientCidrs: [], accounts: false }]);
  const macs = new Map(Array.from({ length: guests }, (_, i) => [guestAddress(i).ip, guestAddress(i).mac]));
  const app = await buildPortal({
    config,
    logger: silentLogger,
    metrics,
    authenticator: createSessionAuthenticator({ flows: accounts.flows, clock, logger: silentLogger }),
    readiness: [],
    cookieSecret: 'bench-cookie-secret-0123456789abcdef',
    guest: {
      store,
      clock,
      config,
      logger: silentLogger,
      accounts: portalAccountsFrom(accounts.flows, accounts.sshKeys),
      accessPort: new GrpcAccessPort(router),
      secret: 'bench-handoff-secret',
      macOfAddress: (ip) => macs.get(ip) ?? null,
      voucherRateLimitPerMinute: 1_000_000,
    },
  });
  await app.ready();
  const plan = await createPlan(store, clock, { name: 'Hour', durationSeconds: 3600, bandwidthDownKbps: 8000 });
  const { codes } = await createVoucherBatch(store, clock, { planId: plan.id, count: guests, createdBy: 'bench' });
  return {
    async connect(i) {
      const phone = new FormClient(app, { remoteAddress: guestAddress(i).ip });
      await phone.get('/portal');
      const res = await phone.post('/portal/voucher', { code: codes[i]!, terms: 'yes' });
      return res.statusCode === 303 && res.headers.location === '/portal/status';
    },
    async close() {
      await app.close();
      await accounts.settled();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
