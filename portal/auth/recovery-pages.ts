import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Config } from '../../appliance/config/schema.js';
import { isTurnpikeError, httpStatusOf } from '../../appliance/errors.js';
import { escapeHtml, simplePage } from './html.js';

const tokenQuery = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', minLength: 16, maxLength: 512 } },
} as const;

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
 * Where the emailed links lead: `/auth/verify-email?token=` and
 * `/auth/reset-password?token=`. Opening a link only shows a form — mail
 * scanners that prefetch links do not spend the single-use token; the POST does.
 * No session is involved, so the token itself is the only credential.
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

  const verifyForm = (token: string) =>
    `<form method="post" action="/auth/verify-email"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
    `<button type="submit">Confirm my email address</button></form>`;

  app.get<{ Querystring: { token: string } }>(
    '/auth/verify-email',
    { config, schema: { hide: true, querystring: tokenQuery } },
    async (request, reply) => html(reply, 200, 'Confirm your email address', verifyForm(request.query.token)),
  );

  app.post<{ Body: { token: string } }>(
    '/auth/verify-email',
    { config, schema: { hide: true, body: tokenQuery } },
    async (request, reply) => {
      try {
        await flows.verifyEmail(request.body.token, { ip: request.ip });
      } catch (err) {
        return refusal(reply, 'Confirm your email address', err, '<p>Sign in and ask for a new link.</p>');
      }
      return html(reply, 200, 'Email address confirmed', '<p>Thank you. Your email address is confirmed.</p>');
    },
  );

  const resetForm = (token: string) =>
    `<form method="post" action="/auth/reset-password"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
    `<label>New password (at least 10 characters)<br>` +
    `<input type="password" name="password" autocomplete="new-password" minlength="10" required></label>` +
    `<button type="submit">Set the new password</button></form>`;

  app.get<{ Querystring: { token: string } }>(
    '/auth/reset-password',
    { config, schema: { hide: true, querystring: tokenQuery } },
    async (request, reply) => html(reply, 200, 'Choose a new password', resetForm(request.query.token)),
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
          properties: { token: tokenQuery.properties.token, password: { type: 'string', maxLength: 256 } },
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
      return html(reply, 200, 'Password changed', '<p>Your password is changed. Sign in with the new one.</p>');
    },
  );
}
