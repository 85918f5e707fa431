import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../appliance/config/schema.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../../appliance/store/store.js';
import { clientEntitlement } from './client-access.js';

/** What each OS fetches to detect a captive portal, and exactly what it expects once online. */
export interface Probe {
  os: string;
  hosts: readonly string[];
  paths: readonly string[];
  status: number;
  contentType: string | null;
  body: string;
}

const APPLE_SUCCESS = '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>';

export const PROBES: readonly Probe[] = [
  {
    os: 'apple',
    hosts: ['captive.apple.com', 'www.apple.com', 'www.appleiphonecell.com'],
    paths: ['/hotspot-detect.html', '/library/test/success.html'],
    status: 200,
    contentType: 'text/html',
    body: APPLE_SUCCESS,
  },
  {
    os: 'android',
    hosts: ['connectivitycheck.gstatic.com', 'connectivitycheck.android.com', 'clients3.google.com', 'www.google.com'],
    paths: ['/generate_204', '/gen_204'],
    status: 204,
    contentType: null,
    body: '',
  },
  {
    os: 'windows',
    hosts: ['www.msftconnecttest.com'],
    paths: ['/connecttest.txt'],
    status: 200,
    contentType: 'text/plain',
    body: 'Microsoft Connect Test',
  },
  {
    os: 'windows-ncsi',
    hosts: ['www.msftncsi.com'],
    paths: ['/ncsi.txt'],
    status: 200,
    contentType: 'text/plain',
    body: 'Microsoft NCSI',
  },
  {
    os: 'firefox',
    hosts: ['detectportal.firefox.com'],
    paths: ['/success.txt'],
    status: 200,
    contentType: 'text/plain',
    body: 'success\n',
  },
  {
    os: 'firefox-canonical',
    hosts: ['detectportal.firefox.com'],
    paths: ['/canonical.html'],
    status: 200,
    contentType: 'text/html',
    body: '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>',
  },
];

/**
 * OS connectivity probes. In gateway mode every port-80 request of an
 * unauthorised client lands here (DNAT), whatever its Host; the path and the
 * Host pick the OS. Unauthorised: a redirect to the portal, which makes the OS
 * open its captive mini-browser. Authorised: the byte-exact answer the OS
 * expects, so it marks the network as online.
 */
export async function captiveProbes(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; config: Config },
): Promise<void> {
  const portalUrl = `${deps.config.portal.publicUrl.replace(/\/$/, '')}/portal`;

  for (const probe of PROBES) {
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('cache-control', 'no-cache, no-store, must-revalidate');
      if (!clientEntitlement(deps.store, request.ip, deps.clock.now())) return reply.redirect(portalUrl, 302);
      void reply.status(probe.status);
      if (probe.contentType) void reply.type(probe.contentType);
      return reply.send(probe.body);
    };
    for (const path of probe.paths) {
      app.get(path, { config: { public: true, rateLimit: false }, schema: { hide: true } }, handler);
    }
    // Apple's probe also fetches the bare host name.
    if (probe.os === 'apple') {
      for (const host of probe.hosts) {
        app.get(
          '/',
          { config: { public: true, rateLimit: false }, constraints: { host }, schema: { hide: true } },
          handler,
        );
      }
    }
  }

  // Gateway mode redirects every port-80 request of a captive client here, whatever the site.
  // Those requests carry someone else's Host: send them to the portal. The portal's own
  // unknown paths keep their JSON 404.
  if (deps.config.gateway.enabled) {
    const ownHost = new URL(deps.config.portal.publicUrl).host;
    app.get('/*', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      if (request.headers.host === ownHost || request.url.startsWith('/api/')) {
        throw new TurnpikeError('TP_ERR_NOT_FOUND', `No route for ${request.method} ${request.url}`);
      }
      void reply.header('cache-control', 'no-store');
      return reply.redirect(portalUrl, 302);
    });
  }
}
