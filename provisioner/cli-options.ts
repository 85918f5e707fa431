import { parseArgs } from 'node:util';

export interface ProvisionerCliOptions {
  listen: string;
  tlsDir: string;
  jwtPublicKey: string;
  driver: 'memory' | 'nftables';
  accounts: 'memory' | 'host';
  lanInterface: string;
  portalIp: string;
  portalIp6: string;
  portalPort: number;
  netns: string;
  gardenRefreshSeconds: number;
  metricsListen: string;
  logLevel: string;
  /** OTLP/HTTP traces URL; empty = tracing off. */
  otlpEndpoint: string;
  /** Share of traces this daemon starts itself that are kept; calls follow the appliance's decision. */
  traceSampling: number;
}

const USAGE = `turnpike-provisioner [options]
  --listen HOST:PORT          gRPC address (default 127.0.0.1:50051; port 0 = any free port)
  --tls-dir DIR               ca.pem, server.pem, server-key.pem (from \`turnpike init\`)
  --jwt-public-key FILE       verifies call tokens (default <tls-dir>/jwt-public.pem)
  --driver memory|nftables    firewall driver (default memory)
  --accounts memory|host      account driver (default memory)
  --lan-if IFACE              guest-facing interface (nftables)
  --portal-ip IP              portal address on the gateway (nftables)
  --portal-ip6 IP             optional IPv6 portal address
  --portal-port PORT          portal port HTTP is redirected to (default 8080)
  --netns NAME                run nft inside a network namespace (tests, benchmarks)
  --garden-refresh-seconds N  re-resolve walled-garden domains every N s (default 300)
  --metrics-listen HOST:PORT  serve Prometheus text at /metrics (off by default)
  --log-level LEVEL           pino level (default info)
  --otlp-endpoint URL         send traces over OTLP/HTTP (e.g. http://127.0.0.1:4318/v1/traces; off by default)
  --trace-sampling RATIO      0..1, for traces this daemon starts (default 1)
Environment: TURNPIKE_TELEMETRY_OTLP_ENDPOINT and TURNPIKE_TELEMETRY_SAMPLING_RATIO, the
appliance's own names for these two (/etc/turnpike/telemetry.env sets them for both
units), are the defaults of --otlp-endpoint and --trace-sampling.`;

/**
 * Parses and checks the command line; throws with the usage text on any mistake.
 * Tracing reads the appliance's environment names as defaults, so one file of
 * settings traces both daemons alike.
 */
export function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): ProvisionerCliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      listen: { type: 'string', default: '127.0.0.1:50051' },
      'tls-dir': { type: 'string' },
      'jwt-public-key': { type: 'string' },
      driver: { type: 'string', default: 'memory' },
      accounts: { type: 'string', default: 'memory' },
      'lan-if': { type: 'string', default: '' },
      'portal-ip': { type: 'string', default: '' },
      'portal-ip6': { type: 'string', default: '' },
      'portal-port': { type: 'string', default: '8080' },
      netns: { type: 'string', default: '' },
      'garden-refresh-seconds': { type: 'string', default: '300' },
      'metrics-listen': { type: 'string', default: '' },
      'log-level': { type: 'string', default: 'info' },
      'otlp-endpoint': { type: 'string', default: env.TURNPIKE_TELEMETRY_OTLP_ENDPOINT ?? '' },
      'trace-sampling': { type: 'string', default: env.TURNPIKE_TELEMETRY_SAMPLING_RATIO ?? '1' },
      help: { type: 'boolean', default: false },
    },
  });
  const fail = (why: string): never => {
    throw new Error(`${why}\n\n${USAGE}`);
  };
  if (values.help) fail('usage');
  const tlsDir = values['tls-dir'] ?? fail('--tls-dir is required');
  const driver = values.driver === 'memory' || values.driver === 'nftables' ? values.driver : fail('bad --driver');
  const accounts =
    values.accounts === 'memory' || values.accounts === 'host' ? values.accounts : fail('bad --accounts');
  const portalPort = Number(values['portal-port']);
  if (!Number.isInteger(portalPort) || portalPort < 1 || portalPort > 65535) fail('bad --portal-port');
  const gardenRefreshSeconds = Number(values['garden-refresh-seconds']);
  if (!Number.isInteger(gardenRefreshSeconds) || gardenRefreshSeconds < 10) fail('bad --garden-refresh-seconds (≥ 10)');
  const traceSampling = Number(values['trace-sampling']);
  if (!(traceSampling >= 0 && traceSampling <= 1)) fail('bad --trace-sampling (0..1)');
  if (driver === 'nftables' && (!values['lan-if'] || !values['portal-ip'])) {
    fail('--driver nftables needs --lan-if and --portal-ip');
  }
  return {
    listen: values.listen,
    tlsDir,
    jwtPublicKey: values['jwt-public-key'] ?? `${tlsDir}/jwt-public.pem`,
    driver,
    accounts,
    lanInterface: values['lan-if'],
    portalIp: values['portal-ip'],
    portalIp6: values['portal-ip6'],
    portalPort,
    netns: values.netns,
    gardenRefreshSeconds,
    metricsListen: values['metrics-listen'],
    logLevel: values['log-level'],
    otlpEndpoint: values['otlp-endpoint'],
    traceSampling,
  };
}
