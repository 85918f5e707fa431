import type { FastifyInstance, FastifyReply } from 'fastify';
import { visiblePlans } from '../../appliance/plans/plans.js';
import { parseHandoff } from '../handoff/handoff-params.js';
import { readNasReturn } from '../handoff/nas-return.js';
import { activePlanOf } from './active-plan.js';
import { planCard } from './formatting.js';
import { readContext, rememberHandoff, termsOf, welcomeOf, type GuestContext } from './guest-context.js';
import { formSchema } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import { finishLogin } from './journey.js';
import { brokenHandoffPage, nasReturnPage } from './nas-return-page.js';
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
    // CoovaChilli and MikroTik also send the browser back here after their RADIUS exchange.
    const back = readNasReturn(deps.store.db, query);
    let handoff = null;
    try {
      handoff = parseHandoff(deps.store.db, query);
    } catch (err) {
      // A report of how a login went needs no challenge; a hand-off to log in with does.
      if (back === null || back.outcome === 'login') {
        request.log.info({ err }, 'unusable NAS hand-off');
        return brokenHandoffPage(reply, pages, context, back);
      }
    }
    if (handoff) {
      context.handoff = handoff;
      context.nasToken = rememberHandoff(deps, reply, handoff);
      context.mac = handoff.mac ?? context.mac;
    }
    if (back && back.outcome !== 'login') {
      // A failed login that came with a fresh hand-off is retried on the landing page itself.
      if (back.outcome === 'failed' && handoff) return landing(reply, context, context.t.nasFailed);
      return nasReturnPage(reply, pages, context, back);
    }
    return landing(reply, context, null);
  });

  // The terms on a page of their own, so the checkbox that accepts them can link to them.
  app.get('/portal/terms', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return pages.page(reply, context, 'message', context.t.terms, {
      heading: context.t.terms,
      message: termsOf(deps, context.lang),
      isError: false,
      continueUrl: null,
      action: null,
    });
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
