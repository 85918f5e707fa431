import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { TurnpikeError, type ErrorCode } from '../../shared/errors.js';
import { errorShape } from './error-shape.js';

async function replyTo(code: ErrorCode) {
  const app = Fastify({ logger: false });
  await app.register(errorShape);
  app.get('/', async () => {
    throw new TurnpikeError(code);
  });
  const reply = await app.inject({ method: 'GET', url: '/' });
  await app.close();
  return reply;
}

test('while the database cannot be reached, a request is answered 503 with Retry-After and its code', async () => {
  const reply = await replyTo('TP_ERR_STORE_UNAVAILABLE');
  assert.equal(reply.statusCode, 503);
  assert.equal(reply.headers['retry-after'], '5');
  assert.equal(reply.json<{ error: { code: string } }>().error.code, 'TP_ERR_STORE_UNAVAILABLE');
});

test('a write that kept losing to other appliances is answered 503 with a short Retry-After', async () => {
  const reply = await replyTo('TP_ERR_STORE_CONFLICT');
  assert.equal(reply.statusCode, 503);
  assert.equal(reply.headers['retry-after'], '1');
});

test('an error a retry cannot fix carries no Retry-After', async () => {
  const reply = await replyTo('TP_ERR_VOUCHER_USED');
  assert.equal(reply.statusCode, 409);
  assert.equal(reply.headers['retry-after'], undefined);
});
