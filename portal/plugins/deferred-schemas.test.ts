import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify from 'fastify';
import pino from 'pino';
import { deferredSchemas } from './deferred-schemas.js';

/** The portal's validation options (portal/app.ts), so the routes behave as the portal's do. */
const AJV = { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } };

function portalLike(logLines: string[] = []) {
  const schemas = deferredSchemas();
  const logger = pino(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const app = Fastify({
    loggerInstance: logger,
    ajv: AJV as never,
    schemaController: { compilersFactory: schemas.compilersFactory },
  });
  app.addHook('onListen', async () => schemas.compileRest(app.log));
  return app;
}

test('routes validate and serialize as with fastify’s own compilers: bodies, coerced queries, defaults, headers in any case, response fields', async (t) => {
  const app = portalLike();
  t.after(() => app.close());
  app.post(
    '/plans/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer' } } },
        querystring: { type: 'object', properties: { limit: { type: 'integer', default: 10 } } },
        headers: { type: 'object', required: ['X-Venue'], properties: { 'X-Venue': { type: 'string' } } },
        body: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1 }, tags: { type: 'array', items: { type: 'string' } } },
        },
        response: { 200: { type: 'object', properties: { id: { type: 'integer' }, limit: { type: 'integer' } } } },
      },
    },
    async (request) => {
      const params = request.params as { id: number };
      const query = request.query as { limit: number };
      return { id: params.id, limit: query.limit, secret: 'not in the response schema' };
    },
  );

  const ok = await app.inject({
    method: 'POST',
    url: '/plans/7',
    headers: { 'x-venue': 'lobby' },
    payload: { name: 'Day', tags: 'one' },
  });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.deepEqual(ok.json(), { id: 7, limit: 10 }, 'params coerced, default applied, extra field not serialized');

  const noName = await app.inject({ method: 'POST', url: '/plans/7', headers: { 'x-venue': 'lobby' }, payload: {} });
  assert.equal(noName.statusCode, 400);
  assert.match(noName.json<{ message: string }>().message, /name/);

  const noHeader = await app.inject({ method: 'POST', url: '/plans/7', payload: { name: 'Day' } });
  assert.equal(noHeader.statusCode, 400);
  assert.match(noHeader.json<{ message: string }>().message, /x-venue/);

  const badParam = await app.inject({
    method: 'POST',
    url: '/plans/seven',
    headers: { 'x-venue': 'lobby' },
    payload: { name: 'Day' },
  });
  assert.equal(badParam.statusCode, 400);
});

test('a schema that does not compile no longer stops the start: the route fails alone and the log names it once listening', async (t) => {
  const lines: string[] = [];
  const app = portalLike(lines);
  t.after(() => app.close());
  app.post('/broken', { schema: { body: { type: 'no-such-type' } } }, async () => ({ ok: true }));
  app.get('/fine', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });

  // Listening, the routes nobody called yet compile in the background: the broken one is logged.
  for (let i = 0; i < 100 && !lines.some((line) => line.includes('a route schema does not compile')); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(
    lines.some((line) => line.includes('a route schema does not compile')),
    lines.join(''),
  );
  assert.equal((await app.inject({ method: 'GET', url: '/fine' })).statusCode, 200);
  assert.equal((await app.inject({ method: 'POST', url: '/broken', payload: {} })).statusCode, 500);
});
