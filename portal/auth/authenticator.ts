import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AuthFlows } from '../../appliance/accounts/auth-flows.js';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';
import type { Logger } from '../../shared/logger.js';
import type { Authenticator, Principal } from '../plugins/access-control.js';
import { ACCESS_COOKIE, clearSessionCookies, readSessionCookies, setSessionCookies } from './session-cookies.js';

/** A browser fires several requests at once with the same expired cookie; they share one rotation. */
const ROTATION_SHARE_MS = 10_000;

type CookieOutcome = { kind: 'set'; tokens: TokenPair } | { kind: 'clear' };

export interface SessionAuthenticator extends Authenticator {
  /** Plugin (fastify-plugin, root scope) that writes rotated or cleared session cookies on the reply. */
  cookieRefresh: FastifyPluginAsync;
}

function routeSetSession(header: unknown): boolean {
  const values = Array.isArray(header) ? header : typeof header === 'string' ? [header] : [];
  return values.some((value) => typeof value === 'string' && value.startsWith(`${ACCESS_COOKIE}=`));
}

function bearerOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

/**
 * Cookies carry no CSRF token, so on the JSON API they admit only reads; a
 * state-changing API call needs `Authorization: Bearer`. Pages use cookies
 * with CSRF-protected forms.
 */
function cookiesAdmitted(request: FastifyRequest): boolean {
  if (!request.url.startsWith('/api/')) return true;
  return request.method === 'GET' || request.method === 'HEAD';
}

/**
 * The portal's Authenticator: `Authorization: Bearer` for the API, the
 * `tp_access` cookie for pages; with only a valid `tp_refresh` cookie left it
 * rotates the session and the reply carries the new cookies.
 */
export function createSessionAuthenticator(options: { flows: AuthFlows; clock: { now(): number }; logger: Logger }) {
  const { flows, clock } = options;
  const outcomes = new WeakMap<FastifyRequest, CookieOutcome>();
  const rotations = new Map<string, { at: number; result: Promise<TokenPair | null> }>();

  async function grant(token: string): Promise<Principal | null> {
    try {
      return await flows.authenticateAccess(token);
    } catch {
      return null;
    }
  }

  function rotateShared(refreshToken: string, ip: string): Promise<TokenPair | null> {
    const now = clock.now();
    for (const [key, entry] of rotations) if (now - entry.at > ROTATION_SHARE_MS) rotations.delete(key);
    const shared = rotations.get(refreshToken);
    if (shared) return shared.result;
    const result = flows.refresh(refreshToken, { ip }).catch(() => null);
    rotations.set(refreshToken, { at: now, result });
    return result;
  }

  const authenticator: SessionAuthenticator = {
    async authenticate(request) {
      const bearer = bearerOf(request);
      if (bearer) return grant(bearer);
      if (!cookiesAdmitted(request)) return null;
      const cookies = readSessionCookies(request);
      if (cookies.access) {
        const principal = await grant(cookies.access);
        if (principal) return principal;
      }
      if (!cookies.refresh) return null;
      const tokens = await rotateShared(cookies.refresh, request.ip);
      if (!tokens) {
        outcomes.set(request, { kind: 'clear' });
        return null;
      }
      outcomes.set(request, { kind: 'set', tokens });
      return grant(tokens.accessToken);
    },
    cookieRefresh: fp(
      async (app: FastifyInstance) => {
        app.addHook('onSend', async (request, reply, payload) => {
          const outcome = outcomes.get(request);
          // A route that set or cleared the session itself (login, logout) has the last word.
          if (!outcome || routeSetSession(reply.getHeader('set-cookie'))) return payload;
          if (outcome.kind === 'set') setSessionCookies(reply, outcome.tokens);
          else clearSessionCookies(reply);
          return payload;
        });
      },
      { name: 'turnpike-cookie-refresh' },
    ),
  };
  return authenticator;
}
