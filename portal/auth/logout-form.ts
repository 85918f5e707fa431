import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import { ALL_ROLES } from '../api/auth-schemas.js';
import { escapeHtml, simplePage } from './html.js';
import { clearSessionCookies, readSessionCookies } from './session-cookies.js';

/**
 * The cookie session's sign-out: a page with a CSRF-protected form, and the
 * form's POST. Works without JavaScript.
 */
export async function logoutForm(app: FastifyInstance, options: { accounts: AccountService }): Promise<void> {
  const { flows, users } = options.accounts;
  const access = { roles: ALL_ROLES, allowPendingMfa: true } as const;

  app.get('/auth/logout', { config: access, schema: { hide: true } }, async (request, reply) => {
    const user = users.getUser(request.principal!.userId);
    const token = reply.generateCsrf();
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        simplePage(
          'Sign out',
          `<p>Signed in as <strong>${escapeHtml(user.displayName)}</strong> (${escapeHtml(user.email)}).</p>` +
            `<form method="post" action="/auth/logout"><input type="hidden" name="_csrf" value="${escapeHtml(token)}">` +
            `<button type="submit">Sign out</button></form>`,
        ),
      );
  });

  app.post(
    '/auth/logout',
    { config: access, schema: { hide: true }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const principal = request.principal!;
      const refresh = readSessionCookies(request).refresh;
      await flows.logout(
        { sessionId: principal.sessionId, ...(refresh ? { refreshToken: refresh } : {}), actorId: principal.userId },
        { ip: request.ip },
      );
      clearSessionCookies(reply);
      return reply.redirect('/', 303);
    },
  );
}
