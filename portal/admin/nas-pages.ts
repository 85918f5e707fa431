import type { FastifyInstance } from 'fastify';
import { createAuditTrail } from '../../appliance/accounts/audit.js';
import { nasRows } from '../../appliance/console/dashboard-figures.js';
import type { Dialect } from '../../appliance/domain/model.js';
import type { Logger } from '../../appliance/logger.js';
import { addNasClient, DIALECTS, removeNasClient } from '../../appliance/nas/nas-clients.js';
import { ADMIN } from '../api/auth-schemas.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';

type Request = Parameters<AdminReplies['page']>[0];
type Reply = Parameters<AdminReplies['page']>[1];

/** NAS clients (admin): list with last seen, add (the secret is shown once), remove. */
export function nasPages(app: FastifyInstance, deps: AdminPagesDeps & { logger: Logger }, replies: AdminReplies) {
  const { store, clock } = deps;
  const audit = createAuditTrail(deps);

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
      const client = await addNasClient(store, clock, {
        name: form.name.trim(),
        source: form.source.trim(),
        dialect: form.dialect as Dialect,
        coaPort: Number(form.coaPort || '3799'),
        requireMessageAuthenticator: body.requireMessageAuthenticator === 'on',
        ...(secret ? { secret } : {}),
      });
      await audit({
        action: 'nas.added',
        actorId: request.principal!.userId,
        target: client.id,
        ip: request.ip,
        details: { name: client.name, source: client.source, dialect: client.dialect },
      });
      return listPage(request, reply, { notice: t.nasAdded, secret: client.secret });
    } catch (err) {
      return listPage(request, reply, { error: replies.failureText(request, reply, err), form });
    }
  });

  app.post('/admin/nas/:id/remove', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    try {
      const removed = await removeNasClient(store, (request.params as { id: string }).id);
      await audit({
        action: 'nas.removed',
        actorId: request.principal!.userId,
        target: removed.id,
        ip: request.ip,
        details: { name: removed.name, source: removed.source },
      });
      return listPage(request, reply, { notice: t.nasRemoved });
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });
}
