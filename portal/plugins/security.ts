import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import rateLimit from '@fastify/rate-limit';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import csrf from '@fastify/csrf-protection';
import type { Config } from '../../appliance/config/schema.js';

export const CSRF_COOKIE = 'tp_csrf';

/**
 * The headers helmet sets for `options`, worked out once. Helmet's middleware
 * (and @fastify/helmet, which builds a new one per request) parses its options
 * and the CSP directives on every call; ours do not change while the portal
 * runs, so every response gets the same precomputed values.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
      return recorder;
    },
    // Helmet removes X-Powered-By, which neither node nor fastify sets.
    removeHeader() {},
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

/**
 * Security headers, rate limits on every route (routes may tighten theirs
 * through `config.rateLimit`), cookies, form bodies and CSRF tokens for
 * cookie-authenticated forms (`preHandler: app.csrfProtection`).
 */
export const security = fp(
  async (app: FastifyInstance, options: { config: Config; cookieSecret: string }) => {
    const { portal } = options.config;
    const headers = securityHeaders({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          scriptSrc: ["'self'"],
          formAction: ["'self'", 'http:', 'https:'],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
        },
      },
      // Captive mini-browsers follow plain-http hand-offs to the NAS; HSTS would break them.
      hsts: portal.secureCookies,
      crossOriginEmbedderPolicy: false,
    });
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
    await app.register(rateLimit, {
      global: true,
      max: portal.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => request.ip,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: {
          code: 'TP_ERR_RATE_LIMITED',
          message: `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} s`,
        },
      }),
    });
    await app.register(cookie, { secret: options.cookieSecret });
    await app.register(formbody, { bodyLimit: portal.bodyLimitBytes });
    await app.register(csrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: CSRF_COOKIE,
      cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: portal.secureCookies, signed: true },
      getToken: (request) => {
        const body = request.body as Record<string, unknown> | undefined;
        const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
        const header = request.headers['x-csrf-token'];
        return fromBody ?? (typeof header === 'string' ? header : undefined);
      },
    });
  },
  { name: 'turnpike-security' },
);
