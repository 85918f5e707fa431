import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MonitoringProbe {
  name: string;
  check(): Promise<boolean>;
}

export interface MonitoringListenerOptions {
  host: string;
  /** 0 picks a free port (tests); read it from `url`. */
  port: number;
  registry: Registry;
  readiness: MonitoringProbe[];
  /** When non-empty, `/metrics` answers 401 without `Authorization: Bearer <token>`. */
  bearerToken: string;
}

export interface MonitoringListener {
  /** `http://host:port` actually bound. */
  url: string;
  close(): Promise<void>;
}

/** Hashing first makes the comparison constant-time whatever the lengths. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

/**
 * The operator's door for Prometheus and probes, apart from the guests' listener:
 * its own address (loopback by default) and port, no guest rate limit, and an
 * optional bearer token for scrapes that cross a network.
 */
export async function startMonitoringListener(o: MonitoringListenerOptions): Promise<MonitoringListener> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
    if (path === '/healthz') return send(res, 200, 'application/json', '{"status":"ok"}');
    if (path === '/readyz') {
      const results = await Promise.all(
        o.readiness.map(async (probe) => [probe.name, await probe.check().catch(() => false)] as const),
      );
      const ready = results.every(([, ok]) => ok);
      const body = { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) };
      return send(res, ready ? 200 : 503, 'application/json', JSON.stringify(body));
    }
    if (path === '/metrics') {
      if (o.bearerToken !== '') {
        const header = req.headers.authorization ?? '';
        const given = header.startsWith('Bearer ') ? header.slice(7) : '';
        if (!sameSecret(given, o.bearerToken)) {
          res.setHeader('www-authenticate', 'Bearer realm="turnpike-metrics"');
          return send(res, 401, 'text/plain', 'bearer token required\n');
        }
      }
      return send(res, 200, o.registry.contentType, await o.registry.metrics());
    }
    send(res, 404, 'text/plain', 'not found: /metrics, /healthz, /readyz\n');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'metrics collection failed\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
