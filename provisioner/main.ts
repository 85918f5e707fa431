import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createLogger } from '../shared/logger.js';
import { startTracing } from '../shared/telemetry/tracing.js';
import { parseCliOptions } from './cli-options.js';
import { HostAccountDriver } from './drivers/accounts.js';
import type { AccountDriver, FirewallDriver } from './drivers/driver.js';
import { MemoryAccountDriver, MemoryFirewallDriver } from './drivers/memory.js';
import { NftablesDriver } from './drivers/nftables/nftables-driver.js';
import { assertIp } from './validation.js';
import { startProvisionerServer } from './server/start-server.js';

/**
 * `turnpike-provisioner`: the privileged daemon's entry point; it only wires.
 * Prints one JSON line `{"listening":"host:port"}` on stdout once bound, so a
 * parent (the embedded appliance, tests) learns the port when it asked for 0.
 */
async function main(): Promise<void> {
  const o = parseCliOptions(process.argv.slice(2));
  const tracing = await startTracing({
    otlpEndpoint: o.otlpEndpoint,
    samplingRatio: o.traceSampling,
    serviceName: 'turnpike-provisioner',
  });
  const logger = createLogger({ level: o.logLevel });
  const firewall: FirewallDriver =
    o.driver === 'nftables'
      ? new NftablesDriver({
          logger,
          lanInterface: o.lanInterface,
          portalIp: assertIp('--portal-ip', o.portalIp),
          portalPort: o.portalPort,
          refreshSeconds: o.gardenRefreshSeconds,
          ...(o.portalIp6 ? { portalIp6: assertIp('--portal-ip6', o.portalIp6) } : {}),
          ...(o.netns ? { commandPrefix: ['ip', 'netns', 'exec', o.netns] } : {}),
        })
      : new MemoryFirewallDriver();
  const accounts: AccountDriver = o.accounts === 'host' ? new HostAccountDriver() : new MemoryAccountDriver();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'turnpike_provisioner_' });
  const server = await startProvisionerServer({
    listen: o.listen,
    tls: {
      ca: await readFile(join(o.tlsDir, 'ca.pem')),
      cert: await readFile(join(o.tlsDir, 'server.pem')),
      key: await readFile(join(o.tlsDir, 'server-key.pem')),
    },
    jwtPublicKey: createPublicKey(await readFile(o.jwtPublicKey)),
    firewall,
    accounts,
    firewallName: o.driver,
    accountsName: o.accounts,
    logger,
    registry,
  });

  const metrics = o.metricsListen
    ? createServer((req, res) => {
        if (req.url !== '/metrics') return void res.writeHead(404).end();
        void server.registry.metrics().then((text) => res.writeHead(200, { 'content-type': 'text/plain' }).end(text));
      })
    : undefined;
  if (metrics) {
    const at = o.metricsListen.lastIndexOf(':');
    metrics.listen(Number(o.metricsListen.slice(at + 1)), o.metricsListen.slice(0, at));
  }

  process.stdout.write(`${JSON.stringify({ listening: server.address })}\n`);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'provisioner stopping; firewall rules stay in place');
    metrics?.close();
    void server
      .stop()
      .then(() => tracing.shutdown())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`turnpike-provisioner: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
