import type { FastifyInstance } from 'fastify';
import { TurnpikeError } from '../../shared/errors.js';

/**
 * The JSON API takes JSON bodies only. Form encodings are for cookie pages,
 * which carry CSRF tokens; refusing them here keeps a cross-site form from
 * ever reaching an API handler.
 */
export function jsonBodiesOnly(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const type = request.headers['content-type'];
    if (type === undefined) return;
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) throw new TurnpikeError('TP_ERR_UNSUPPORTED_MEDIA');
  });
}
