import type { FastifyInstance, FastifyReply } from 'fastify';
import { sessionAt } from '../../appliance/guest-access/guest-access.js';
import { sessionIndexesOf } from '../../appliance/sessions/session-indexes.js';
import { nasLogoffUrl } from '../handoff/nas-login-url.js';
import { isTurnpikeError, TurnpikeError } from '../../shared/errors.js';
import { normalizeCode } from '../../appliance/vouchers/codes.js';
import { redeemVoucher } from '../../appliance/vouchers/redeem.js';
import { activePlanOf } from './active-plan.js';
import { topUpOfferOf } from './top-up-offer.js';
import { deviceListOf } from './device-list.js';
import { forgetGuest, readContext, type GuestContext } from './guest-context.js';
import { field, formSchema, type FormBody } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import type { PageReplies } from './page-replies.js';

/** Where a login ends: whether this device is online, what is left of the plan, the guest's devices; and log out. */
export function statusPage(app: FastifyInstance, deps: GuestPagesDeps, pages: PageReplies): void {
  const { store } = deps;

  const indexes = sessionIndexesOf(store);

  /** This guest's live session on this device, among the guest's own sessions (the page shows no one else's). */
  function ownSessionOfMac(context: GuestContext) {
    if (!context.mac || context.ownerKey === null) return null;
    const db = store.db;
    for (const id of indexes.sessionsByOwner.lookup(db, context.ownerKey)) {
      if (db.sessions[id]?.mac === context.mac) return db.sessions[id]!;
    }
    return null;
  }

  /** The status page, with a notice or the failure of a top-up on it. */
  function statusOf(reply: FastifyReply, context: GuestContext, said: { notice: string | null; error: string | null }) {
    const session = sessionAt(store, context.handoff?.ip ?? context.ip) ?? ownSessionOfMac(context);
    const connected = session !== null && session.ownerKey === context.ownerKey;
    const handoff = context.handoff;
    const continueUrl = handoff ? (handoff.kind === 'coovachilli' ? handoff.userurl : handoff.orig) : null;
    return pages.page(reply, context, 'status', connected ? context.t.connected : context.t.status, {
      connected,
      active: activePlanOf(deps, context),
      topUp: topUpOfferOf(deps, context),
      devices: deviceListOf(store, context),
      continueUrl,
      canLogOut: context.ownerKey !== null,
      ...said,
    });
  }

  app.get<{ Querystring: { done?: string } }>(
    '/portal/status',
    {
      config: { public: true },
      schema: {
        hide: true,
        querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 20 } } },
      },
    },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      const notice = request.query.done === 'top-up' ? context.t.topUpDone : null;
      return statusOf(reply, context, { notice, error: null });
    },
  );

  // A voucher adds its data to the guest's throttled plan; wrong codes count like on the voucher page.
  app.post(
    '/portal/top-up',
    {
      config: { public: true, rateLimit: { max: deps.voucherRateLimitPerMinute ?? 20, timeWindow: 60_000 } },
      schema: { hide: true, ...formSchema },
      preHandler: app.csrfProtection,
    },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      const body = request.body as FormBody;
      const keys = [`ip:${context.ip}`, ...(context.mac ? [`mac:${context.mac}`] : [])];
      try {
        if (!context.ownerKey) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED');
        const subscriptionId = field(body, 'topUp', 64);
        deps.guessLimiter.assertAllowed(keys);
        try {
          await redeemVoucher(store, deps.clock, {
            code: normalizeCode(field(body, 'code', 40)),
            mac: context.mac,
            deviceId: context.deviceId,
            topUpOf: { subscriptionId, ownerKey: context.ownerKey },
          });
        } catch (err) {
          if (isTurnpikeError(err, 'TP_ERR_VOUCHER_INVALID') || isTurnpikeError(err, 'TP_ERR_VOUCHER_USED'))
            await deps.guessLimiter.recordFailure(keys);
          throw err;
        }
        await deps.guessLimiter.recordSuccess(keys);
        await deps.limitsChanged?.(subscriptionId);
        return reply.redirect('/portal/status?done=top-up', 303);
      } catch (err) {
        return statusOf(reply, context, { notice: null, error: pages.failureText(reply, context, err) });
      }
    },
  );

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
      return pages.page(reply, after, 'message', context.t.logOut, {
        heading: context.t.logOut,
        message: context.t.loggedOut,
        isError: false,
      });
    },
  );
}
