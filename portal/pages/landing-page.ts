import type { FastifyInstance, FastifyReply } from 'fastify';
import { visiblePlans } from '../../appliance/plans/plans.js';
import { errorMessage } from '../i18n/messages.js';
import { parseHandoff } from '../handoff/handoff-params.js';
import { activePlanOf } from './active-plan.js';
import { planCard } from './formatting.js';
import { readContext, rememberHandoff, termsOf, welcomeOf, type GuestContext } from './guest-context.js';
import { formSchema } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import { finishLogin } from './journey.js';
import type { PageReplies } from './page-replies.js';
import { createStrangerLanding } from './stranger-landing.js';

/**
 * Where every guest arrives: the NAS hands the browser over (or the browser returns after its
 * RADIUS exchange), and the page offers plans, terms, a voucher field and, to a guest who
 * already has a plan, "connect".
 */
export function landingPage(app: FastifyInstance, deps: GuestPagesDeps, pages: PageReplies): void {
  function landingData(context: GuestContext, error: string | null) {
    return {
      welcome: welcomeOf(deps, context.lang),
      terms: termsOf(deps, context.lang),
      plans: visiblePlans(deps.store.db).map((plan) => planCard(plan, context.lang, context.t)),
      active: activePlanOf(deps, context),
      error,
    };
  }

  const strangerLanding = createStrangerLanding(deps, (context) => landingData(context, null), pages.csrfToken);

  function landing(reply: FastifyReply, context: GuestContext, error: string | null) {
    if (error === null && context.ownerKey === null) return strangerLanding(reply, context);
    return pages.page(reply, context, 'landing', context.t.plans, landingData(context, error));
  }

  app.get('/', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const query = request.url.indexOf('?');
    return reply.redirect(`/portal${query >= 0 ? request.url.slice(query) : ''}`, 302);
  });

  app.get('/portal', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    const query = request.query as Record<string, unknown>;
    let handoff;
    try {
      handoff = parseHandoff(deps.store.db, query);
    } catch (err) {
      return pages.failMessagePage(reply, context, err);
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
        return landing(reply, context, pages.failureText(reply, context, err));
      }
    },
  );
}
