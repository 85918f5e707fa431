import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Config } from '../../appliance/config/schema.js';
import { isTurnpikeError, httpStatusOf } from '../../shared/errors.js';
import { escapeHtml, simplePage } from './html.js';

type LinkPurpose = 'password-reset' | 'email-verification';

const tokenInput = { type: 'string', minLength: 16, maxLength: 512 } as const;
const optionalTokenQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { token: tokenInput },
} as const;
const tokenBody = { type: 'object', required: ['token'], properties: { token: tokenInput } } as const;

/** Carries an emailed token from the link's URL to the page's form, so the URL sheds it at once. */
const LINK_COOKIE = 'tp_link';
const LINK_COOKIE_SECONDS = 30 * 60;

function html(reply: FastifyReply, status: number, title: string, body: string) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send(simplePage(title, body));
}

/** Renders a domain refusal (expired link, weak password) as a page rather than JSON. */
function refusal(reply: FastifyReply, title: string, err: unknown, retry: string) {
  if (!isTurnpikeError(err)) throw err;
  return html(reply, httpStatusOf(err.code), title, `<p role="alert">${escapeHtml(err.message)}</p>${retry}`);
}

/**
 * Where the emailed links lead: `/auth/verify-email?token=` and `/auth/reset-password?token=`.
 * The first request checks the token, moves it into a short-lived cookie and redirects to the
 * same page without it, so the token leaves the address bar, the history and every later request
 * line; the page then carries it in a POST form. Opening a link spends nothing — mail scanners
 * that prefetch links do not use up the single-use token; the POST does.
 */
export async function recoveryPages(
  app: FastifyInstance,
  options: { accounts: AccountService; config: Config },
): Promise<void> {
  const { flows } = options.accounts;
  const config = {
    public: true,
    rateLimit: { max: options.config.portal.authRateLimitPerMinute, timeWindow: 60_000 },
  } as const;

  /** The GET half of a link: hand the token over to the cookie, or render the form from the cookie. */
  function linkPage(
    path: string,
    purpose: LinkPurpose,
    title: string,
    form: (token: string) => string,
  ): (request: FastifyRequest<{ Querystring: { token?: string } }>, reply: FastifyReply) => Promise<FastifyReply> {
    return async (request, reply) => {
      const fromUrl = request.query.token;
      const expired = () =>
        html(reply, 401, title, '<p role="alert">This link is invalid or has expired.</p><p>Ask for a new one.</p>');
      if (fromUrl !== undefined) {
        if (!flows.isLinkUsable(fromUrl, purpose)) return expired();
        void reply.setCookie(LINK_COOKIE, fromUrl, {
          path,
          httpOnly: true,
          sameSite: 'lax',
          secure: request.protocol === 'https',
          maxAge: LINK_COOKIE_SECONDS,
        });
        return reply.header('cache-control', 'no-store').redirect(path, 303);
      }
      const held = request.cookies?.[LINK_COOKIE];
      if (!held) return html(reply, 400, title, '<p>Open the link from your mail again.</p>');
      if (!flows.isLinkUsable(held, purpose)) return expired();
      return html(reply, 200, title, form(held));
    };
  }

  const spent = (reply: FastifyReply, path: string) => void reply.clearCookie(LINK_COOKIE, { path });

  const verifyForm = (token: string) =>
    `<form method="post" action="/auth/verify-email"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
    `<button type="submit">Confirm my email address</button></form>`;

  app.get<{ Querystring: { token?: string } }>(
    '/auth/verify-email',
    { config, schema: { hide: true, querystring: optionalTokenQuery } },
    linkPage('/auth/verify-email', 'email-verification', 'Confirm your email address', verifyForm),
  );

  app.post<{ Body: { token: string } }>(
    '/auth/verify-email',
    { config, schema: { hide: true, body: tokenBody } },
    async (request, reply) => {
      try {
        await flows.verifyEmail(request.body.token, { ip: request.ip });
      } catch (err) {
        return refusal(reply, 'Confirm your email address', err, '<p>Sign in and ask for a new link.</p>');
      }
      spent(reply, '/auth/verify-email');
      return html(reply, 200, 'Email address confirmed', '<p>Thank you. Your email address is confirmed.</p>');
    },
  );

  const resetForm = (token: string) =>
    `<form method="post" action="/auth/reset-password"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
    `<label>New password (at least 10 characters)<br>` +
    `<input type="password" name="password" autocomplete="new-password" minlength="10" required></label>` +
    `<button type="submit">Set the new password</button></form>`;

  app.get<{ Querystring: { token?: string } }>(
    '/auth/reset-password',
    { config, schema: { hide: true, querystring: optionalTokenQuery } },
    linkPage('/auth/reset-password', 'password-reset', 'Choose a new password', resetForm),
  );

  app.post<{ Body: { token: string; password: string } }>(
    '/auth/reset-password',
    {
      config,
      schema: {
        hide: true,
        body: {
          type: 'object',
          required: ['token', 'password'],
          properties: { token: tokenInput, password: { type: 'string', maxLength: 256 } },
        },
      },
    },
    async (request, reply) => {
      try {
        await flows.confirmPasswordReset(request.body, { ip: request.ip });
      } catch (err) {
        const retry = isTurnpikeError(err, 'TP_ERR_WEAK_PASSWORD') ? resetForm(request.body.token) : '';
        return refusal(reply, 'Choose a new password', err, retry);
      }
      spent(reply, '/auth/reset-password');
      return html(reply, 200, 'Password changed', '<p>Your password is changed. Sign in with the new one.</p>');
    },
  );
}
