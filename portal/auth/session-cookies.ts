import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';

export const ACCESS_COOKIE = 'tp_access';
export const REFRESH_COOKIE = 'tp_refresh';

function cookieOptions(request: FastifyRequest, maxAgeSeconds: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    // `request.protocol` honours X-Forwarded-Proto when `portal.trustProxy` is on.
    secure: request.protocol === 'https',
    maxAge: maxAgeSeconds,
  };
}

/** Puts a browser session in httpOnly, SameSite=Lax cookies. */
export function setSessionCookies(reply: FastifyReply, tokens: TokenPair): void {
  void reply.setCookie(ACCESS_COOKIE, tokens.accessToken, cookieOptions(reply.request, tokens.expiresIn));
  void reply.setCookie(REFRESH_COOKIE, tokens.refreshToken, cookieOptions(reply.request, tokens.refreshExpiresIn));
}

export function clearSessionCookies(reply: FastifyReply): void {
  void reply.clearCookie(ACCESS_COOKIE, { path: '/' });
  void reply.clearCookie(REFRESH_COOKIE, { path: '/' });
}

export function readSessionCookies(request: FastifyRequest): { access: string | null; refresh: string | null } {
  const cookies = request.cookies ?? {};
  return { access: cookies[ACCESS_COOKIE] ?? null, refresh: cookies[REFRESH_COOKIE] ?? null };
}
