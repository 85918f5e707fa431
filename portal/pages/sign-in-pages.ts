import type { FastifyInstance } from 'fastify';
import { activeEntitlementFor } from '../../appliance/sessions/owner-entitlements.js';
import { isTurnpikeError, TurnpikeError } from '../../shared/errors.js';
import { readContext, termsOf } from './guest-context.js';
import { assertTermsAccepted, field, formSchema, type FormBody } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import { finishLogin } from './journey.js';
import type { PageReplies } from './page-replies.js';

/** Sign-up and login: they need the accounts service, and then continue the journey like any other login. */
export function signInPages(app: FastifyInstance, deps: GuestPagesDeps, pages: PageReplies): void {
  const authForm = {
    config: { public: true, rateLimit: { max: deps.config.portal.authRateLimitPerMinute, timeWindow: 60_000 } },
    schema: { hide: true, ...formSchema },
    preHandler: app.csrfProtection,
  };

  app.get('/portal/signup', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return pages.page(reply, context, 'signup', context.t.signUpTitle, {
      email: '',
      displayName: '',
      terms: termsOf(deps, context.lang),
      error: null,
    });
  });

  app.get('/portal/login', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return pages.page(reply, context, 'login', context.t.logInTitle, { email: '', error: null });
  });

  app.post('/portal/signup', authForm, async (request, reply) => {
    const context = readContext(deps, request, reply);
    const body = request.body as FormBody;
    const data = {
      email: field(body, 'email', 254),
      displayName: field(body, 'displayName', 80),
      terms: termsOf(deps, context.lang),
    };
    try {
      assertTermsAccepted(body, context.t);
      if (!deps.accounts) throw new TurnpikeError('TP_ERR_UNAVAILABLE');
      const displayName = field(body, 'displayName', 80).trim();
      const password = field(body, 'password', 200);
      await deps.accounts.register(
        { email: data.email, password, ...(displayName ? { displayName } : {}) },
        { ip: context.ip },
      );
      // Registration answers alike for a new and a taken address; signing in is what only the owner can do.
      const result = await deps.accounts.login({ email: data.email, password }, { ip: context.ip });
      if (result.status !== 'ok') throw new TurnpikeError('TP_ERR_INVALID_CREDENTIALS');
      deps.accounts.setSessionCookies(reply, result.tokens);
      return reply.redirect('/portal', 303);
    } catch (err) {
      if (isTurnpikeError(err, 'TP_ERR_INVALID_CREDENTIALS')) {
        return pages.page(reply, context, 'login', context.t.logInTitle, {
          email: data.email,
          error: context.t.signUpAddressTaken,
        });
      }
      return pages.failPage(reply, context, err, 'signup', data);
    }
  });

  app.post('/portal/login', authForm, async (request, reply) => {
    const context = readContext(deps, request, reply);
    const body = request.body as FormBody;
    const data = { email: field(body, 'email', 254) };
    try {
      if (!deps.accounts) throw new TurnpikeError('TP_ERR_UNAVAILABLE');
      const result = await deps.accounts.login(
        { email: data.email, password: field(body, 'password', 200) },
        { ip: context.ip },
      );
      if (result.status !== 'ok')
        throw new TurnpikeError('TP_ERR_MFA_REQUIRED', 'Staff accounts sign in on the admin console');
      deps.accounts.setSessionCookies(reply, result.tokens);
      const ownerKey = `user:${result.user.id}`;
      const usable = 'entitlement' in activeEntitlementFor(deps.store, ownerKey, deps.clock.now());
      if (!usable) return reply.redirect('/portal', 303);
      await finishLogin(deps, { ...context, ownerKey, userId: result.user.id }, ownerKey, reply);
      return reply;
    } catch (err) {
      return pages.failPage(reply, context, err, 'login', data);
    }
  });
}
