import type { FastifyInstance } from 'fastify';
import { bindDevice } from '../../appliance/devices/devices.js';
import { visiblePlans } from '../../appliance/plans/plans.js';
import { takeFreeTier } from '../../appliance/subscriptions/free-tier.js';
import { planCard } from './formatting.js';
import { readContext, rememberDevice, termsOf, type GuestContext } from './guest-context.js';
import { assertTermsAccepted, field, formSchema, type FormBody } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import { finishLogin } from './journey.js';
import type { PageReplies } from './page-replies.js';

/** Taking a free plan: signed-in guests only, once per period per account and per device. */
export function freeTierPage(app: FastifyInstance, deps: GuestPagesDeps, pages: PageReplies): void {
  const { store, clock } = deps;

  function freePlansFor(context: GuestContext) {
    return visiblePlans(store.db)
      .filter((plan) => plan.freeTier !== null)
      .map((plan) => planCard(plan, context.lang, context.t));
  }

  app.get('/portal/free', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return pages.page(reply, context, 'free', context.t.freeTitle, {
      plans: freePlansFor(context),
      signedIn: context.userId !== null,
      terms: termsOf(deps, context.lang),
      error: null,
    });
  });

  app.post(
    '/portal/free',
    { config: { public: true }, schema: { hide: true, ...formSchema }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      const body = request.body as FormBody;
      const data = { plans: freePlansFor(context), signedIn: context.userId !== null };
      if (!context.userId) return reply.redirect('/portal/signup', 303);
      try {
        assertTermsAccepted(body, context.t);
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
        return pages.failPage(reply, context, err, 'free', data);
      }
    },
  );
}
