import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth/request-actor.js';
import { nasRows } from '../../appliance/console/dashboard-figures.js';
import { nasTrustFigures } from '../../appliance/nas/nas-trust.js';
import type { Dialect } from '../../appliance/domain/model.js';
import type { Logger } from '../../shared/logger.js';
import { addNasClient, DIALECTS, removeNasClient, updateNasClient } from '../../appliance/nas/nas-clients.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { NasClient } from '../../appliance/domain/model.js';
import { ADMIN } from '../api/auth-schemas.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';

type Request = Parameters<AdminReplies['page']>[0];
type Reply = Parameters<AdminReplies['page']>[1];

/** NAS clients (admin): list with last seen, add (the secret is shown once), remove. */
export function nasPages(app: FastifyInstance, deps: AdminPagesDeps & { logger: Logger }, replies: AdminReplies) {
  const { store, clock } = deps;

  function listPage(
    request: Request,
    reply: Reply,
    options: { notice?: string; error?: string; secret?: string; form?: Record<string, string> } = {},
  ) {
    const t = replies.t(request, reply);
    const clients = nasRows(store.db, deps.snapshots).map((row) => ({
      ...row,
      ...store.db.nasClients[row.id]!,
      secret: undefined,
    }));
    const form = options.form ?? { name: '', source: '', dialect: 'generic', coaPort: '3799' };
    return replies.page(
      request,
      reply,
      'nas',
      t.nas,
      { clients, dialects: DIALECTS, form, secret: options.secret ?? null },
      options,
    );
  }

  app.get('/admin/nas', pageRoute(ADMIN), async (request, reply) => listPage(request, reply));

  app.post('/admin/nas', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const body = request.body as FormBody;
    const form = {
      name: field(body, 'name', 63),
      source: field(body, 'source', 64),
      dialect: field(body, 'dialect', 20),
      coaPort: field(body, 'coaPort', 5),
    };
    try {
      const secret = field(body, 'secret', 128);
      const client = await addNasClient(
        store,
        clock,
        {
          name: form.name.trim(),
          source: form.source.trim(),
          dialect: form.dialect as Dialect,
          coaPort: Number(form.coaPort || '3799'),
          requireMessageAuthenticator: body.requireMessageAuthenticator === 'on',
          ...(secret ? { secret } : {}),
        },
        requestActor(request),
      );
      return listPage(request, reply, { notice: t.nasAdded, secret: client.secret });
    } catch (err) {
      return listPage(request, reply, { error: replies.failureText(request, reply, err), form });
    }
  });

  function editPage(request: Request, reply: Reply, client: NasClient, error: string | null = null) {
    const t = replies.t(request, reply);
    const form = {
      name: client.name,
      source: client.source,
      dialect: client.dialect,
      coaPort: String(client.coaPort),
      requireMessageAuthenticator: client.requireMessageAuthenticator,
    };
    return replies.page(
      request,
      reply,
      'nas-edit',
      `${t.editNas}: ${client.name}`,
      { id: client.id, form, dialects: DIALECTS, trust: nasTrustFigures(store.db, client.id) },
      { error },
    );
  }

  app.get('/admin/nas/:id', pageRoute(ADMIN), async (request, reply) => {
    const client = store.db.nasClients[(request.params as { id: string }).id];
    if (!client) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such NAS client');
    return editPage(request, reply, client);
  });

  app.post('/admin/nas/:id', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const id = (request.params as { id: string }).id;
    const body = request.body as FormBody;
    const current = store.db.nasClients[id];
    if (!current) return replies.fail(request, reply, new TurnpikeError('TP_ERR_NOT_FOUND', 'No such NAS client'));
    try {
      const secret = field(body, 'secret', 128);
      await updateNasClient(
        store,
        clock,
        id,
        {
          name: field(body, 'name', 63).trim(),
          source: field(body, 'source', 64).trim(),
          dialect: field(body, 'dialect', 20) as Dialect,
          coaPort: Number(field(body, 'coaPort', 5) || '3799'),
          requireMessageAuthenticator: body.requireMessageAuthenticator === 'on',
          ...(secret ? { secret } : {}),
        },
        requestActor(request),
      );
      return listPage(request, reply, { notice: t.saved });
    } catch (err) {
      return editPage(request, reply, current, replies.failureText(request, reply, err));
    }
  });

  app.post('/admin/nas/:id/remove', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    try {
      await removeNasClient(store, clock, (request.params as { id: string }).id, requestActor(request));
      return listPage(request, reply, { notice: t.nasRemoved });
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });
}
