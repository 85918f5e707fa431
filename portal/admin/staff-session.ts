import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthFlows } from '../../appliance/accounts/auth-flows.js';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../appliance/config/schema.js';
import { clearSessionCookies, setSessionCookies } from '../auth/session-cookies.js';

/** When the staff member last did something in the console (signed, so it cannot be forged). */
export const SEEN_COOKIE = 'tp_staff_seen';
/** Holds the password step's MFA challenge between the two sign-in forms. */
export const MFA_COOKIE = 'tp_staff_mfa';

function cookieOptions(config: Config, maxAgeSeconds: number) {
  return {
    path: '/admin',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: config.portal.secureCookies,
    signed: true,
    maxAge: maxAgeSeconds,
  };
}

function unsigned(request: FastifyRequest, name: string): string | null {
  const raw = request.cookies[name];
  if (!raw) return null;
  const result = request.unsignCookie(raw);
  return result.valid ? result.value : null;
}

/** Only a console path may follow sign-in: `next` never leads off the box. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/admin(\/[\w\-./?=&%]*)?$/.test(value) && !value.includes('//')
    ? value
    : '/admin';
}

export interface StaffSession {
  /** Starts a console session: the session cookies plus the idle clock. */
  start(reply: FastifyReply, tokens: TokenPair): void;
  end(reply: FastifyReply): void;
  holdMfaChallenge(reply: FastifyReply, mfaToken: string): void;
  mfaChallenge(request: FastifyRequest): string | null;
  dropMfaChallenge(reply: FastifyReply): void;
}

/**
 * Idle timeout without server state: every console request re-signs a "last seen" cookie; a
 * request that arrives later than the timeout ends the session in the store (so the refresh
 * token dies too) and leads back to sign-in.
 */
export function staffSession(
  app: FastifyInstance,
  deps: { flows: AuthFlows; clock: Clock; config: Config },
): StaffSession {
  const { flows, clock, config } = deps;
  const idleMs = config.auth.staffIdleTimeoutSeconds * 1000;
  const idleCookie = cookieOptions(config, config.auth.refreshTokenTtlSeconds);

  app.addHook('onRequest', async (request, reply) => {
    const principal = request.principal;
    if (!principal || principal.role === 'guest' || request.routeOptions.config.public) return;
    const now = clock.now();
    const seen = Number(unsigned(request, SEEN_COOKIE));
    if (!Number.isFinite(seen) || seen <= 0 || now - seen > idleMs) {
      await flows.logout({ sessionId: principal.sessionId, actorId: principal.userId }, { ip: request.ip });
      clearSessionCookies(reply);
      void reply.clearCookie(SEEN_COOKIE, { path: '/admin' });
      return reply.redirect('/admin/login?idle=1', 303);
    }
    void reply.setCookie(SEEN_COOKIE, String(now), idleCookie);
    return undefined;
  });

  return {
    start(reply, tokens) {
      setSessionCookies(reply, tokens);
      void reply.setCookie(SEEN_COOKIE, String(clock.now()), idleCookie);
    },
    end(reply) {
      clearSessionCookies(reply);
      void reply.clearCookie(SEEN_COOKIE, { path: '/admin' });
    },
    holdMfaChallenge(reply, mfaToken) {
      void reply.setCookie(MFA_COOKIE, mfaToken, cookieOptions(config, 300));
    },
    mfaChallenge: (request) => unsigned(request, MFA_COOKIE),
    dropMfaChallenge(reply) {
      void reply.clearCookie(MFA_COOKIE, { path: '/admin' });
    },
  };
}
