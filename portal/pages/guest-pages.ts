import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { activeEntitlementFor, ownerKeyOf } from '../../appliance/entitlements/entitlement.js';
import { devicesOf } from '../../appliance/devices/devices.js';
import { ERRORS, isTurnpikeError, TurnpikeError, type ErrorCode } from '../../appliance/errors.js';
import { visiblePlans } from '../../appliance/plans/plans.js';
import { takeFreeTier } from '../../appliance/subscriptions/free-tier.js';
import { bindDevice } from '../../appliance/devices/devices.js';
import type { GuessLimiter } from '../../appliance/vouchers/guess-limiter.js';
import { redeemVoucher } from '../../appliance/vouchers/redeem.js';
import { normalizeCode } from '../../appliance/vouchers/codes.js';
import { sessionAt } from '../../appliance/guest-access/guest-access.js';
import { errorMessage, type Language } from '../i18n/messages.js';
import { CSRF_COOKIE } from '../plugins/security.js';
import { parseHandoff } from '../handoff/handoff-params.js';
import { nasLogoffUrl } from '../handoff/nas-login-url.js';
import { formatBytes, formatDuration, planCard } from './formatting.js';
import {
  forgetGuest,
  frameOf,
  readContext,
  rememberDevice,
  rememberHandoff,
  rememberVoucher,
  termsOf,
  welcomeOf,
  type GuestContext,
} from './guest-context.js';
import { accountPages } from './account-pages.js';
import { finishLogin, type JourneyDeps } from './journey.js';
import type { PortalAccounts } from './portal-accounts.js';
import type { PageName, PageRenderer } from './renderer.js';

export interface GuestPagesDeps extends JourneyDeps {
  renderer: PageRenderer;
  accounts: PortalAccounts | null;
  guessLimiter: GuessLimiter;
  /** Voucher attempts per minute per address before the route refuses outright. */
  voucherRateLimitPerMinute?: number;
}

type Body = Record<string, unknown>;

function field(body: Body, name: string, max = 1000): string {
  const value = body[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}

function accepted(body: Body): boolean {
  return body.terms === 'yes' || body.terms === 'on';
}

export function messageOf(lang: Language, err: unknown): { code: ErrorCode; text: string } {
  if (isTurnpikeError(err)) return { code: err.code, text: errorMessage(lang, err.code, err.message) };
  return { code: 'TP_ERR_INTERNAL', text: errorMessage(lang, 'TP_ERR_INTERNAL', ERRORS.TP_ERR_INTERNAL.message) };
}

const CSRF_MARK = '\u0000csrf\u0000';
const NAS_MARK = '\u0000nas\u0000';
const MARKS = /(\u0000csrf\u0000|\u0000nas\u0000)/;

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const formSchema = { body: { type: 'object', additionalProperties: true } } as const;

/** The captive pages a guest walks through: landing, vouchers, free tier, sign-up, login, status, log out. */
export async function guestPages(app: FastifyInstance, deps: GuestPagesDeps): Promise<void> {
  const { store, clock, renderer } = deps;

  // A token is derived from the client's CSRF secret cookie and stays valid for it, so a client
  // that keeps its cookie reuses one token instead of paying an HMAC and a hash on every page.
  const csrfTokens = new Map<string, string>();
  function csrfToken(reply: FastifyReply): string {
    const cookie = reply.request.cookies[CSRF_COOKIE];
    const cached = cookie ? csrfTokens.get(cookie) : undefined;
    if (cached) return cached;
    const token = reply.generateCsrf();
    if (cookie && reply.request.unsignCookie(cookie).valid) {
      if (csrfTokens.size >= 10_000) csrfTokens.clear();
      csrfTokens.set(cookie, token);
    }
    return token;
  }

  function page(
    reply: FastifyReply,
    context: GuestContext,
    name: PageName,
    title: string,
    data: Record<string, unknown>,
  ) {
    const csrf = csrfToken(reply);
    const html = renderer.render(name, frameOf(deps, context, title, csrf), { nas: context.nasToken, ...data });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  }

  function activeSummary(context: GuestContext) {
    if (!context.ownerKey) return null;
    const found = activeEntitlementFor(store.db, context.ownerKey, clock.now());
    if (!('entitlement' in found)) return null;
    const { entitlement } = found;
    return {
      planName: entitlement.plan.name,
      timeLeft: formatDuration(entitlement.secondsLeft, context.t),
      dataLeft: formatBytes(entitlement.bytesLeft, context.t),
      ownerKey: ownerKeyOf(entitlement.subscription),
    };
  }

  function landingData(context: GuestContext, error: string | null) {
    return {
      welcome: welcomeOf(deps, context.lang),
      terms: termsOf(deps, context.lang),
      plans: visiblePlans(store.db).map((plan) => planCard(plan, context.lang, context.t)),
      active: activeSummary(context),
      error,
    };
  }

  // A stranger's landing page differs only in its CSRF and NAS tokens: it is rendered once per
  // language with markers and then assembled per request. Any `db.json` write may change plans or
  // branding, so it drops the cache; journaled lines (accounting) never do.
  const strangerLanding = new Map<string, Array<Buffer | string>>();
  store.onWrite(({ journal }) => {
    if (journal === null) strangerLanding.clear();
  });

  function landing(reply: FastifyReply, context: GuestContext, error: string | null) {
    if (error !== null || context.ownerKey !== null) {
      return page(reply, context, 'landing', context.t.plans, landingData(context, error));
    }
    let parts = strangerLanding.get(context.lang);
    if (!parts) {
      const frame = frameOf(deps, context, context.t.plans, CSRF_MARK);
      const html = renderer.render('landing', frame, { ...landingData(context, null), nas: NAS_MARK });
      // Static stretches are kept as bytes, so a request copies them instead of encoding 9 KB of text.
      parts = html.split(MARKS).map((part) => (part === CSRF_MARK || part === NAS_MARK ? part : Buffer.from(part)));
      strangerLanding.set(context.lang, parts);
    }
    const csrf = Buffer.from(escapeAttribute(csrfToken(reply)));
    const nas = Buffer.from(escapeAttribute(context.nasToken));
    const body = Buffer.concat(
      parts.map((part) => (part === CSRF_MARK ? csrf : part === NAS_MARK ? nas : (part as Buffer))),
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  }

  function failPage(
    reply: FastifyReply,
    context: GuestContext,
    err: unknown,
    name: PageName,
    data: Record<string, unknown>,
  ) {
    const { code, text } = messageOf(context.lang, err);
    if (code === 'TP_ERR_INTERNAL') reply.log.error({ err }, 'guest page failed');
    const status = code === 'TP_ERR_RATE_LIMITED' ? 429 : (ERRORS[code]?.http ?? 500);
    if (code === 'TP_ERR_RATE_LIMITED' && isTurnpikeError(err) && typeof err.details?.retryAfterSeconds === 'number') {
      void reply.header('retry-after', String(err.details.retryAfterSeconds));
    }
    void reply.status(status);
    if (name === 'landing') return landing(reply, context, text);
    return page(reply, context, name, context.t.error, { ...data, terms: termsOf(deps, context.lang), error: text });
  }

  // Failures the handlers did not catch themselves (CSRF, rate limit, bad form) still answer with a page.
  app.setErrorHandler((err, request, reply) => {
    const context = readContext(deps, request, reply);
    const code: ErrorCode = isTurnpikeError(err)
      ? err.code
      : (err as { statusCode?: number }).statusCode === 429
        ? 'TP_ERR_RATE_LIMITED'
        : String((err as { code?: string }).code ?? '').startsWith('FST_CSRF')
          ? 'TP_ERR_CSRF'
          : (err as { validation?: unknown }).validation
            ? 'TP_ERR_VALIDATION'
            : 'TP_ERR_INTERNAL';
    if (code === 'TP_ERR_UNAUTHENTICATED' && request.method === 'GET') return reply.redirect('/portal/login', 303);
    const wrapped = isTurnpikeError(err) ? err : new TurnpikeError(code);
    return failPage(reply, context, wrapped, 'message', {
      heading: context.t.error,
      message: messageOf(context.lang, wrapped).text,
      isError: true,
    });
  });

  app.get('/', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const query = request.url.indexOf('?');
    return reply.redirect(`/portal${query >= 0 ? request.url.slice(query) : ''}`, 302);
  });

  app.get('/portal', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    const query = request.query as Record<string, unknown>;
    let handoff;
    try {
      handoff = parseHandoff(store.db, query);
    } catch (err) {
      return failPage(reply, context, err, 'message', {
        heading: context.t.error,
        message: messageOf(context.lang, err).text,
        isError: true,
      });
    }
    if (handoff) {
      context.handoff = handoff;
      context.nasToken = rememberHandoff(deps, reply, handoff);
      context.mac = handoff.mac ?? context.mac;
    }
    // CoovaChilli sends the browser back here after its RADIUS exchange.
    const res = typeof query.res === 'string' ? query.res : '';
    if (res === 'success' || res === 'already') return reply.redirect('/portal/status', 303);
    if (res === 'failed')
      return landing(reply, context, errorMessage(context.lang, 'TP_ERR_INVALID_CREDENTIALS', context.t.error));
    return landing(reply, context, null);
  });

  const voucherRoute = {
    config: { public: true, rateLimit: { max: deps.voucherRateLimitPerMinute ?? 20, timeWindow: 60_000 } },
    schema: { hide: true },
  };

  app.get('/portal/voucher', voucherRoute, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return page(reply, context, 'voucher', context.t.haveVoucher, {
      code: '',
      terms: termsOf(deps, context.lang),
      error: null,
    });
  });

  app.post(
    '/portal/voucher',
    { ...voucherRoute, schema: { ...voucherRoute.schema, ...formSchema }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      const body = request.body as Body;
      const code = normalizeCode(field(body, 'code', 40));
      const formData = { code: field(body, 'code', 40), terms: termsOf(deps, context.lang) };
      if (!accepted(body))
        return failPage(
          reply,
          context,
          new TurnpikeError('TP_ERR_VALIDATION', context.t.mustAccept),
          'voucher',
          formData,
        );
      const keys = [`ip:${context.ip}`, ...(context.mac ? [`mac:${context.mac}`] : [])];
      try {
        deps.guessLimiter.assertAllowed(keys);
        let subscription;
        try {
          subscription = await redeemVoucher(store, clock, { code, mac: context.mac, deviceId: context.deviceId });
        } catch (err) {
          if (isTurnpikeError(err, 'TP_ERR_VOUCHER_INVALID') || isTurnpikeError(err, 'TP_ERR_VOUCHER_USED')) {
            deps.guessLimiter.recordFailure(keys);
          }
          throw err;
        }
        deps.guessLimiter.recordSuccess(keys);
        rememberVoucher(deps, reply, code);
        const ownerKey = ownerKeyOf(subscription);
        await finishLogin(deps, { ...context, ownerKey }, ownerKey, reply);
        return reply;
      } catch (err) {
        return failPage(reply, context, err, 'voucher', formData);
      }
    },
  );

  app.get('/portal/free', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return freePage(reply, context, null);
  });

  function freePlansFor(context: GuestContext) {
    return visiblePlans(store.db)
      .filter((plan) => plan.freeTier !== null)
      .map((plan) => planCard(plan, context.lang, context.t));
  }

  function freePage(reply: FastifyReply, context: GuestContext, error: string | null) {
    return page(reply, context, 'free', context.t.freeTitle, {
      plans: freePlansFor(context),
      signedIn: context.userId !== null,
      terms: termsOf(deps, context.lang),
      error,
    });
  }

  app.post(
    '/portal/free',
    { config: { public: true }, schema: { hide: true, ...formSchema }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      const body = request.body as Body;
      const data = { plans: freePlansFor(context), signedIn: context.userId !== null };
      if (!context.userId) return reply.redirect('/portal/signup', 303);
      if (!accepted(body))
        return failPage(reply, context, new TurnpikeError('TP_ERR_VALIDATION', context.t.mustAccept), 'free', data);
      try {
        const ownerKey = `user:${context.userId}`;
        let deviceKey = context.mac;
        if (!deviceKey) {
          const device = await bindDevice(store, clock, { ownerKey, mac: null, deviceId: context.deviceId });
          rememberDevice(deps, reply, device.id);
          context.deviceId = device.id;
          deviceKey = `device:${device.id}`;
        }
        await takeFreeTier(store, clock, { userId: context.userId, planId: field(body, 'planId', 64), deviceKey });
        await finishLogin(deps, { ...context, ownerKey }, ownerKey, reply);
        return reply;
      } catch (err) {
        return failPage(reply, context, err, 'free', data);
      }
    },
  );

  app.post(
    '/portal/connect',
    { config: { public: true }, schema: { hide: true, ...formSchema }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      if (!context.ownerKey) return reply.redirect('/portal/login', 303);
      try {
        await finishLogin(deps, context, context.ownerKey, reply);
        return reply;
      } catch (err) {
        return failPage(reply, context, err, 'landing', {});
      }
    },
  );

  app.get('/portal/status', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return statusPage(reply, context, null);
  });

  function statusPage(reply: FastifyReply, context: GuestContext, notice: string | null) {
    const db = store.db;
    const active = activeSummary(context);
    const session = sessionAt(db, context.handoff?.ip ?? context.ip) ?? sessionOfMac(context);
    const connected = session !== null && session.ownerKey === context.ownerKey;
    const devices = context.ownerKey
      ? devicesOf(db, context.ownerKey).map((d) => ({
          id: d.id,
          label: [d.label, d.mac ? `${context.t.mac} ${d.mac}` : ''].filter(Boolean).join(' · ') || d.id.slice(0, 8),
          online: d.online,
          current: d.id === context.deviceId,
        }))
      : [];
    const handoff = context.handoff;
    const continueUrl = handoff ? (handoff.kind === 'coovachilli' ? handoff.userurl : handoff.orig) : null;
    return page(reply, context, 'status', connected ? context.t.connected : context.t.status, {
      connected,
      active,
      devices,
      continueUrl,
      canLogOut: context.ownerKey !== null,
      notice,
      error: null,
    });
  }

  function sessionOfMac(context: GuestContext) {
    if (!context.mac) return null;
    return Object.values(store.db.sessions).find((s) => s.mac === context.mac) ?? null;
  }

  app.post(
    '/portal/logout',
    { config: { public: true }, schema: { hide: true, ...formSchema }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      if (context.ownerKey && deps.config.gateway.enabled) {
        await deps.guestAccess.disconnect({ ownerKey: context.ownerKey, ip: context.ip });
      }
      if (context.userId && deps.accounts) {
        await deps.accounts.logout(
          { sessionId: request.principal?.sessionId ?? null, actorId: context.userId },
          { ip: context.ip },
        );
        deps.accounts.clearSessionCookies(reply);
      }
      forgetGuest(reply);
      const logoff = context.handoff ? nasLogoffUrl(context.handoff) : null;
      if (logoff) return reply.redirect(logoff, 303);
      const after = { ...context, ownerKey: null, userId: null, handoff: null, nasToken: '' };
      return page(reply, after, 'message', context.t.logOut, {
        heading: context.t.logOut,
        message: context.t.loggedOut,
        isError: false,
      });
    },
  );

  registerAccountForms(app, deps, page, failPage);
  accountPages(app, deps, page, failPage);
}

export type PageFn = (
  reply: FastifyReply,
  context: GuestContext,
  name: PageName,
  title: string,
  data: Record<string, unknown>,
) => FastifyReply;
export type FailFn = (
  reply: FastifyReply,
  context: GuestContext,
  err: unknown,
  name: PageName,
  data: Record<string, unknown>,
) => FastifyReply;

/** Sign-up and login: they need the accounts service, and then continue the journey like any other login. */
function registerAccountForms(app: FastifyInstance, deps: GuestPagesDeps, page: PageFn, failPage: FailFn): void {
  const authLimit = { max: deps.config.portal.authRateLimitPerMinute, timeWindow: 60_000 };

  app.get('/portal/signup', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return page(reply, context, 'signup', context.t.signUpTitle, {
      email: '',
      displayName: '',
      terms: termsOf(deps, context.lang),
      error: null,
    });
  });

  app.get('/portal/login', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return page(reply, context, 'login', context.t.logInTitle, { email: '', error: null });
  });

  app.post(
    '/portal/signup',
    {
      config: { public: true, rateLimit: authLimit },
      schema: { hide: true, ...formSchema },
      preHandler: app.csrfProtection,
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const context = readContext(deps, request, reply);
      const body = request.body as Body;
      const data = {
        email: field(body, 'email', 254),
        displayName: field(body, 'displayName', 80),
        terms: termsOf(deps, context.lang),
      };
      try {
        if (!accepted(body)) throw new TurnpikeError('TP_ERR_VALIDATION', context.t.mustAccept);
        if (!deps.accounts) throw new TurnpikeError('TP_ERR_UNAVAILABLE');
        const displayName = field(body, 'displayName', 80).trim();
        const { tokens } = await deps.accounts.register(
          { email: data.email, password: field(body, 'password', 200), ...(displayName ? { displayName } : {}) },
          { ip: context.ip },
        );
        deps.accounts.setSessionCookies(reply, tokens);
        return reply.redirect('/portal', 303);
      } catch (err) {
        return failPage(reply, context, err, 'signup', data);
      }
    },
  );

  app.post(
    '/portal/login',
    {
      config: { public: true, rateLimit: authLimit },
      schema: { hide: true, ...formSchema },
      preHandler: app.csrfProtection,
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const context = readContext(deps, request, reply);
      const body = request.body as Body;
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
        const usable = 'entitlement' in activeEntitlementFor(deps.store.db, ownerKey, deps.clock.now());
        if (!usable) return reply.redirect('/portal', 303);
        await finishLogin(deps, { ...context, ownerKey, userId: result.user.id }, ownerKey, reply);
        return reply;
      } catch (err) {
        return failPage(reply, context, err, 'login', data);
      }
    },
  );
}
