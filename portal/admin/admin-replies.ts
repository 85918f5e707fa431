import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../appliance/config/schema.js';
import type { CollectionSnapshots } from '../../appliance/console/collection-snapshots.js';
import type { Role } from '../../appliance/domain/model.js';
import { ERRORS } from '../../shared/errors.js';
import type { Store } from '../../appliance/store/store.js';
import { ADMIN, STAFF } from '../api/auth-schemas.js';
import type { AdminMessages } from '../i18n/admin-messages.js';
import { isLanguage, pickLanguage, type Language } from '../i18n/messages.js';
import { pageErrorOf } from '../pages/error-page.js';
import { messageOf, sendHtml } from '../pages/page-replies.js';
import { COOKIE_LANG } from '../pages/guest-context.js';
import type { AdminFrame, AdminRenderer, AdminView, NavItem } from './admin-renderer.js';

export interface AdminPagesDeps {
  store: Store;
  clock: Clock;
  config: Config;
  accounts: AccountService;
  renderer: AdminRenderer;
  /** The listed collections as arrays, rebuilt only after a write to them. */
  snapshots: CollectionSnapshots;
}

/** The console's sections, each with the roles it admits: the nav shows a staff member only theirs. */
const SECTIONS: ReadonlyArray<{ href: string; key: keyof AdminMessages; roles: readonly Role[] }> = [
  { href: '/admin', key: 'dashboard', roles: STAFF },
  { href: '/admin/sessions', key: 'sessions', roles: STAFF },
  { href: '/admin/people', key: 'people', roles: STAFF },
  { href: '/admin/vouchers', key: 'vouchers', roles: STAFF },
  { href: '/admin/payments', key: 'paymentsNav', roles: STAFF },
  { href: '/admin/plans', key: 'plans', roles: ADMIN },
  { href: '/admin/nas', key: 'nas', roles: ADMIN },
  { href: '/admin/reports', key: 'reports', roles: ADMIN },
  { href: '/admin/audit', key: 'audit', roles: ADMIN },
  { href: '/admin/settings', key: 'settingsNav', roles: ADMIN },
];

/** Route options for a console page: its roles, hidden from OpenAPI. */
export function pageRoute(roles: readonly Role[], extra: { allowPendingMfa?: boolean } = {}) {
  return { config: { roles, ...extra }, schema: { hide: true } };
}

/** Route options for a console form post: roles, any form fields, and the CSRF check. */
export function formRoute(app: FastifyInstance, roles: readonly Role[], extra: { allowPendingMfa?: boolean } = {}) {
  return {
    config: { roles, ...extra },
    schema: { hide: true, body: { type: 'object', additionalProperties: true } },
    preHandler: app.csrfProtection,
  };
}

export interface PageOptions {
  status?: number;
  notice?: string | null;
  error?: string | null;
}

export interface AdminReplies {
  lang(request: FastifyRequest, reply: FastifyReply): Language;
  t(request: FastifyRequest, reply: FastifyReply): AdminMessages;
  page(
    request: FastifyRequest,
    reply: FastifyReply,
    view: AdminView,
    title: string,
    data: Record<string, unknown>,
    options?: PageOptions,
  ): FastifyReply;
  /** A failed action: the error's message in the reader's language, with its HTTP status. */
  fail(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply;
  /** The text of a failure, for pages that show it beside their form; sets the status. */
  failureText(request: FastifyRequest, reply: FastifyReply, err: unknown): string;
}

export function createAdminReplies(deps: AdminPagesDeps): AdminReplies {
  const { renderer } = deps;

  function lang(request: FastifyRequest, reply: FastifyReply): Language {
    const chosen = (request.query as Record<string, unknown> | undefined)?.lang;
    if (isLanguage(chosen)) {
      void reply.setCookie(COOKIE_LANG, chosen, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: deps.config.portal.secureCookies,
        maxAge: 365 * 86_400,
      });
      return chosen;
    }
    return pickLanguage(request.cookies[COOKIE_LANG], request.headers['accept-language']);
  }

  function frameOf(request: FastifyRequest, reply: FastifyReply, title: string, options: PageOptions): AdminFrame {
    const language = lang(request, reply);
    const t = renderer.messages(language);
    const principal = request.principal;
    const user = principal && principal.role !== 'guest' ? deps.store.db.users[principal.userId] : undefined;
    const path = request.url.split('?')[0] ?? '/admin';
    const nav: NavItem[] =
      user && principal?.mfaSatisfied
        ? SECTIONS.filter((section) => section.roles.includes(user.role)).map((section) => ({
            href: section.href,
            label: t[section.key],
            current: section.href === '/admin' ? path === '/admin' : path.startsWith(section.href),
          }))
        : [];
    return {
      lang: language,
      title,
      csrf: reply.generateCsrf(),
      user: user ? { email: user.email, role: user.role } : null,
      nav,
      notice: options.notice ?? null,
      error: options.error ?? null,
      path,
    };
  }

  const replies: AdminReplies = {
    lang,
    t: (request, reply) => renderer.messages(lang(request, reply)),
    page(request, reply, view, title, data, options = {}) {
      if (options.status) void reply.status(options.status);
      return sendHtml(reply, renderer.render(view, frameOf(request, reply, title, options), data));
    },
    failureText(request, reply, err) {
      const failure = pageErrorOf(err);
      const { code, text } = messageOf(lang(request, reply), failure);
      if (code === 'TP_ERR_INTERNAL') request.log.error({ err }, 'console page failed');
      const retryAfter = failure.details?.retryAfterSeconds;
      if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
      void reply.status(ERRORS[code]?.http ?? 500);
      return text;
    },
    fail(request, reply, err) {
      const t = replies.t(request, reply);
      const error = replies.failureText(request, reply, err);
      return replies.page(request, reply, 'message', t.errorTitle, { text: null, link: '/admin' }, { error });
    },
  };
  return replies;
}

/**
 * Failures no handler caught (access control, CSRF, rate limit) answer as console pages: sign in
 * again, finish the security setup, or a clear 403 that names the reader's role.
 */
export function adminErrorHandler(app: FastifyInstance, replies: AdminReplies): void {
  app.setErrorHandler((err, request, reply) => {
    const failure = pageErrorOf(err);
    if (failure.code === 'TP_ERR_UNAUTHENTICATED' || failure.code === 'TP_ERR_TOKEN_INVALID') {
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
      return reply.redirect(`/admin/login${next}`, 303);
    }
    if (failure.code === 'TP_ERR_MFA_REQUIRED') return reply.redirect('/admin/setup', 303);
    if (failure.code === 'TP_ERR_FORBIDDEN') {
      const t = replies.t(request, reply);
      const role = request.principal?.role ?? 'guest';
      return replies.page(
        request,
        reply,
        'message',
        t.forbiddenTitle,
        { text: t.forbiddenText.replace('{role}', role), link: '/admin' },
        { status: 403 },
      );
    }
    return replies.fail(request, reply, failure);
  });
}
