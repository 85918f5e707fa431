import type { FastifyInstance } from 'fastify';
import { isStaff, securitySetupOf } from '../../appliance/accounts/users.js';
import { TurnpikeError } from '../../shared/errors.js';
import { STAFF } from '../api/auth-schemas.js';
import { readSessionCookies } from '../auth/session-cookies.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';
import { safeNext, type StaffSession } from './staff-session.js';

/**
 * Staff sign-in (password, then TOTP or a recovery code), sign-out and sign-out everywhere.
 * Every step is a plain form; the domain (`AuthFlows`) decides, these pages only carry it.
 */
export function signInPages(
  app: FastifyInstance,
  deps: AdminPagesDeps,
  replies: AdminReplies,
  session: StaffSession,
): void {
  const { flows } = deps.accounts;
  const rateLimit = { max: deps.config.portal.authRateLimitPerMinute, timeWindow: 60_000 };
  const publicForm = {
    config: { public: true, rateLimit },
    schema: { hide: true, body: { type: 'object', additionalProperties: true } },
    preHandler: app.csrfProtection,
  };
  const publicPage = { config: { public: true }, schema: { hide: true } };

  app.get('/admin/login', publicPage, async (request, reply) => {
    const t = replies.t(request, reply);
    const query = request.query as Record<string, unknown>;
    const notice =
      query.idle === '1'
        ? t.idleSignedOut
        : query.out === 'all'
          ? t.signedOutEverywhere
          : query.out === '1'
            ? t.signedOut
            : null;
    return replies.page(request, reply, 'login', t.signInTitle, { email: '', next: safeNext(query.next) }, { notice });
  });

  app.post('/admin/login', publicForm, async (request, reply) => {
    const t = replies.t(request, reply);
    const body = request.body as FormBody;
    const email = field(body, 'email', 254);
    const next = safeNext(body.next);
    try {
      const result = await flows.login({ email, password: field(body, 'password', 200) }, { ip: request.ip });
      if (result.status === 'mfa_required') {
        session.holdMfaChallenge(reply, result.mfaToken);
        return reply.redirect(`/admin/login/code?next=${encodeURIComponent(next)}`, 303);
      }
      if (!isStaff(result.user.role)) {
        const refresh = result.tokens.refreshToken;
        await flows.logout({ refreshToken: refresh, actorId: result.user.id }, { ip: request.ip });
        throw new TurnpikeError('TP_ERR_FORBIDDEN', t.staffOnly);
      }
      session.start(reply, result.tokens);
      return reply.redirect(result.securitySetupRequired.length > 0 ? '/admin/setup' : next, 303);
    } catch (err) {
      const error = replies.failureText(request, reply, err);
      return replies.page(request, reply, 'login', t.signInTitle, { email, next }, { error });
    }
  });

  app.get('/admin/login/code', publicPage, async (request, reply) => {
    const t = replies.t(request, reply);
    if (!session.mfaChallenge(request)) return reply.redirect('/admin/login', 303);
    const next = safeNext((request.query as Record<string, unknown>).next);
    return replies.page(request, reply, 'code', t.secondFactorTitle, { next });
  });

  app.post('/admin/login/code', publicForm, async (request, reply) => {
    const t = replies.t(request, reply);
    const body = request.body as FormBody;
    const next = safeNext(body.next);
    const mfaToken = session.mfaChallenge(request);
    if (!mfaToken) return reply.redirect('/admin/login', 303);
    const code = field(body, 'code', 12).replace(/\s/g, '');
    const recoveryCode = field(body, 'recoveryCode', 40).trim();
    try {
      const { user, tokens } = await flows.completeMfa(
        { mfaToken, ...(code ? { code } : recoveryCode ? { recoveryCode } : { code: '' }) },
        { ip: request.ip },
      );
      session.dropMfaChallenge(reply);
      if (!isStaff(user.role)) {
        await flows.logout({ refreshToken: tokens.refreshToken, actorId: user.id }, { ip: request.ip });
        throw new TurnpikeError('TP_ERR_FORBIDDEN', t.staffOnly);
      }
      session.start(reply, tokens);
      return reply.redirect(securitySetupOf(user, true).length > 0 ? '/admin/setup' : next, 303);
    } catch (err) {
      const error = replies.failureText(request, reply, err);
      return replies.page(request, reply, 'code', t.secondFactorTitle, { next }, { error });
    }
  });

  const signedIn = formRoute(app, STAFF, { allowPendingMfa: true });

  app.post('/admin/logout', signedIn, async (request, reply) => {
    const principal = request.principal!;
    const refresh = readSessionCookies(request).refresh;
    await flows.logout(
      { sessionId: principal.sessionId, ...(refresh ? { refreshToken: refresh } : {}), actorId: principal.userId },
      { ip: request.ip },
    );
    session.end(reply);
    return reply.redirect('/admin/login?out=1', 303);
  });

  app.post('/admin/logout-everywhere', signedIn, async (request, reply) => {
    await flows.logoutEverywhere(request.principal!.userId, { ip: request.ip });
    session.end(reply);
    return reply.redirect('/admin/login?out=all', 303);
  });
}
