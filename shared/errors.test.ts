import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersRadius, ERRORS, grpcStatusOf, httpStatusOf, retryAfterOf, type ErrorCode } from './errors.js';

test('a store outage or a lost write race leaves a NAS without an answer, so that it retries; other failures are answered', () => {
  const silent = (Object.keys(ERRORS) as ErrorCode[]).filter((code) => !answersRadius(code));
  assert.deepEqual(silent.sort(), ['TP_ERR_STORE_CONFLICT', 'TP_ERR_STORE_UNAVAILABLE']);
  assert.equal(answersRadius('TP_ERR_INVALID_CREDENTIALS'), true);
});

test('failures that pass on their own say when to retry: HTTP 503 with Retry-After, gRPC UNAVAILABLE or ABORTED', () => {
  assert.equal(httpStatusOf('TP_ERR_STORE_UNAVAILABLE'), 503);
  assert.equal(grpcStatusOf('TP_ERR_STORE_UNAVAILABLE'), 14);
  assert.equal(grpcStatusOf('TP_ERR_STORE_CONFLICT'), 10);
  assert.ok((retryAfterOf('TP_ERR_STORE_UNAVAILABLE') ?? 0) > 0);
  assert.equal(retryAfterOf('TP_ERR_VALIDATION'), undefined);
});
