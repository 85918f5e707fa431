import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth/request-actor.js';
import { liveSession, searchLiveSessions, type LiveSessionRow } from '../../appliance/console/live-sessions.js';
import { sessionTimeline } from '../../appliance/console/session-timeline.js';
import type { Role } from '../../appliance/domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { extendSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { ADMIN, STAFF } from '../api/auth-schemas.js';
import type { StaffEnforcer } from '../api/sessions.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';
import { pagerOf, queryPage, queryText } from './query.js';

const MAX_EXTEND_MINUTES = 365 * 24 * 60;

/** Live sessions: search, a session's page, kick (staff) and extend (admin). */
export function sessionsPages(
  app: FastifyInstance,
  deps: AdminPagesDeps & { enforcer: StaffEnforcer; logger: Logger },
  replies: AdminReplies,
): void {
  const { store, clock, enforcer } = deps;

  app.get('/admin/sessions', pageRoute(STAFF), async (request, reply) => {
    const t = replies.t(request, reply);
    const query = request.query as Record<string, unknown>;
    const filter = { q: queryText(query.q, 100), nasId: queryText(query.nas, 64) };
    const result = searchLiveSessions(
      store.db,
      deps.snapshots,
      { ...filter, page: queryPage(query.page) },
      clock.now(),
    );
    const nasClients = Object.values(store.db.nasClients).map((nas) => ({ id: nas.id, name: nas.name }));
    const pager = pagerOf('/admin/sessions', { q: filter.q, nas: filter.nasId }, result);
    return replies.page(request, reply, 'sessions', t.sessions, { result, filter, nasClients, pager });
  });

  function sessionPage(id: string) {
    const session = liveSession(store.db, id, clock.now());
    if (!session) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'That session has ended or never existed');
    return session;
  }

  /** The session's page data: the row, what the viewer may do, and its timeline. */
  async function sessionView(row: LiveSessionRow, role: Role) {
    const live = store.db.sessions[row.id];
    const timeline = live ? await sessionTimeline(store, live) : { events: [], truncated: false };
    return { session: row, canExtend: role === 'admin', events: timeline.events, truncated: timeline.truncated };
  }

  app.get('/admin/sessions/:id', pageRoute(STAFF), async (request, reply) => {
    const t = replies.t(request, reply);
    const session = sessionPage((request.params as { id: string }).id);
    const view = await sessionView(session, request.principal!.role);
    return replies.page(request, reply, 'session', `${t.session} ${session.mac}`, view);
  });

  app.post('/admin/sessions/:id/kick', formRoute(app, STAFF), async (request, reply) => {
    const t = replies.t(request, reply);
    try {
      const session = sessionPage((request.params as { id: string }).id);
      const outcome = await enforcer.kick(session.id, requestActor(request));
      const notice = t.kicked.replace('{outcome}', outcome.result.outcome);
      const left = liveSession(store.db, session.id, clock.now());
      if (!left) {
        return replies.page(request, reply, 'message', t.sessions, { text: null, link: '/admin/sessions' }, { notice });
      }
      const view = await sessionView(left, request.principal!.role);
      return replies.page(request, reply, 'session', `${t.session} ${left.mac}`, view, { notice });
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });

  app.post('/admin/sessions/:id/extend', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    try {
      const session = sessionPage((request.params as { id: string }).id);
      const minutes = Number(field(request.body as FormBody, 'minutes', 10));
      if (!Number.isSafeInteger(minutes) || minutes < 1 || minutes > MAX_EXTEND_MINUTES) {
        throw new TurnpikeError('TP_ERR_VALIDATION', `minutes: 1–${MAX_EXTEND_MINUTES}`);
      }
      const subscription = await extendSubscription(
        store,
        clock,
        session.subscriptionId,
        minutes * 60,
        requestActor(request),
      );
      // The extension is committed; a CoA failure must not report it as failed.
      await enforcer.refreshLimits(subscription.id).catch((err: unknown) => {
        deps.logger.error({ err, subscriptionId: subscription.id }, 'refreshing sessions after an extension failed');
      });
      const view = await sessionView(sessionPage(session.id), request.principal!.role);
      return replies.page(request, reply, 'session', `${t.session} ${session.mac}`, view, { notice: t.extended });
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });
}
