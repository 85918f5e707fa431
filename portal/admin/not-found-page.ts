import type { FastifyInstance } from 'fastify';
import { STAFF } from '../api/auth-schemas.js';
import { pageRoute, type AdminReplies } from './admin-replies.js';

/**
 * Any `/admin/...` path no page claims answers as a console page, not the API's JSON 404: staff
 * get the signed-in layout with a way back, everyone else the sign-in page first (the role check
 * runs before the handler). Registered last; fastify prefers every concrete route to this wildcard.
 */
export function notFoundPage(app: FastifyInstance, replies: AdminReplies): void {
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/admin/*',
    ...pageRoute(STAFF),
    handler: async (request, reply) => {
      const t = replies.t(request, reply);
      const path = request.url.split('?')[0]!;
      return replies.page(
        request,
        reply,
        'message',
        t.notFoundTitle,
        { text: t.notFoundText.replace('{path}', path), link: '/admin' },
        { status: 404 },
      );
    },
  });
}
