import type { FastifyInstance } from 'fastify';
import { PeopleIndex } from '../../appliance/console/people-index.js';
import { personOverview, searchPeople } from '../../appliance/console/people.js';
import { ROLES, type Role } from '../../appliance/domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import { requestActor } from '../auth/request-actor.js';
import { ADMIN, STAFF } from '../api/auth-schemas.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';
import { pagerOf, queryPage, queryText } from './query.js';

const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** Guests and staff: search, a person's page, and the admin's account actions. */
export function peoplePages(app: FastifyInstance, deps: AdminPagesDeps, replies: AdminReplies): void {
  const { store, clock } = deps;
  const { users, flows } = deps.accounts;
  const index = new PeopleIndex(store);

  app.get('/admin/people', pageRoute(STAFF), async (request, reply) => {
    const t = replies.t(request, reply);
    const query = request.query as Record<string, unknown>;
    const role = queryText(query.role, 10);
    const filter = { q: queryText(query.q, 100), role: isRole(role) ? role : '' };
    const result = searchPeople(store.db, deps.snapshots, index, {
      q: filter.q,
      ...(isRole(role) ? { role } : {}),
      page: queryPage(query.page),
    });
    const pager = pagerOf('/admin/people', filter, result);
    const isAdmin = request.principal!.role === 'admin';
    return replies.page(request, reply, 'people', t.people, {
      result,
      filter,
      roles: ROLES,
      pager,
      isAdmin,
      created: null,
    });
  });

  function personPage(
    request: Parameters<AdminReplies['page']>[0],
    reply: Parameters<AdminReplies['page']>[1],
    notice: string | null,
  ) {
    const person = personOverview(store.db, deps.snapshots, (request.params as { id: string }).id, clock.now());
    if (!person) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such user');
    const isAdmin = request.principal!.role === 'admin';
    return replies.page(request, reply, 'person', person.user.email, { person, isAdmin, roles: ROLES }, { notice });
  }

  app.post('/admin/people', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const body = request.body as FormBody;
    try {
      const role = field(body, 'role', 10);
      if (role !== 'operator' && role !== 'admin') {
        throw new TurnpikeError('TP_ERR_VALIDATION', 'role: operator or admin', { field: 'role' });
      }
      const created = await users.createUser(
        { email: field(body, 'email', 254), role, displayName: field(body, 'displayName', 80) || undefined },
        requestActor(request),
      );
      const result = searchPeople(store.db, deps.snapshots, index, { page: 1 });
      return replies.page(
        request,
        reply,
        'people',
        t.people,
        {
          result,
          filter: { q: '', role: '' },
          roles: ROLES,
          pager: pagerOf('/admin/people', {}, result),
          isAdmin: true,
          created: { email: created.user.email, oneTimePassword: created.oneTimePassword },
        },
        { notice: t.staffCreated },
      );
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });

  app.get('/admin/people/:id', pageRoute(STAFF), async (request, reply) => personPage(request, reply, null));

  app.post('/admin/people/:id', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const id = (request.params as { id: string }).id;
    const body = request.body as FormBody;
    const actor = requestActor(request);
    try {
      const action = field(body, 'action', 40);
      if (action === 'disable' || action === 'enable') {
        await users.setDisabled(id, action === 'disable', actor);
      } else if (action === 'role') {
        const role = field(body, 'role', 10);
        if (!isRole(role)) throw new TurnpikeError('TP_ERR_VALIDATION', `role must be one of ${ROLES.join(', ')}`);
        await users.setRole(id, role, actor);
      } else if (action === 'reset-mfa') {
        await users.updateUser(id, { resetMfa: true }, actor);
      } else if (action === 'resend-verification') {
        await flows.resendVerification(users.getUser(id).id, request.principal!.userId, { ip: request.ip });
        return personPage(request, reply, t.verificationSent);
      } else {
        throw new TurnpikeError('TP_ERR_VALIDATION', 'Unknown action');
      }
      return personPage(request, reply, t.saved);
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });
}
