import type { FastifyInstance } from 'fastify';
import { sessionAt } from '../../appliance/guest-access/guest-access.js';
import { nasLogoffUrl } from '../handoff/nas-login-url.js';
import { topUpOfferFor } from '../../appliance/subscriptions/top-up.js';
import { format } from '../i18n/messages.js';
import { activePlanOf } from './active-plan.js';
import { formatBytes, planCard } from './formatting.js';
import { deviceListOf } from './device-list.js';
import { forgetGuest, readContext, type GuestContext } from './guest-context.js';
import { formSchema } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import type { PageReplies } from './page-replies.js';

/** Where a login ends: whether this device is online, what is left of the plan, the guest's devices; and log out. */
export function statusPage(app: FastifyInstance, deps: GuestPagesDeps, pages: PageReplies): void {
  const { store } = deps;

  function sessionOfMac(context: GuestContext) {
    if (!context.mac) return null;
    return Object.values(store.db.sessions).find((s) => s.mac === context.mac) ?? null;
  }

  /** Plans that add data, for a signed-in guest whose data is spent on a plan that throttles. */
  function topUpOf(context: GuestContext) {
    if (!context.userId || !context.ownerKey) return null;
    const offer = topUpOfferFor(store.db, context.ownerKey, deps.clock.now());
    if (!offer) return null;
    return {
      subscriptionId: offer.subscriptionId,
      plans: offer.plans.map((plan) => ({
        id: plan.id,
        label: format(context.t.topUpAdd, {
          data: formatBytes(plan.quotaBytes, context.t),
          price: planCard(plan, context.lang, context.t).price,
        }),
      })),
    };
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
      const db = store.db;
      const session = sessionAt(db, context.handoff?.ip ?? context.ip) ?? sessionOfMac(context);
      const connected = session !== null && session.ownerKey === context.ownerKey;
      const handoff = context.handoff;
      const continueUrl = handoff ? (handoff.kind === 'coovachilli' ? handoff.userurl : handoff.orig) : null;
      return pages.page(reply, context, 'status', connected ? context.t.connected : context.t.status, {
        connected,
        active: activePlanOf(deps, context),
        devices: deviceListOf(db, context),
        continueUrl,
        canLogOut: context.ownerKey !== null,
        topUp: topUpOf(context),
        notice: request.query.done === 'top-up' ? context.t.topUpDone : null,
        error: null,
      });
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
