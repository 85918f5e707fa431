import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { createLogger } from '../../shared/logger.js';
import { installTraceContext, withRequestId } from '../../shared/telemetry/trace-context.js';

function capture(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { lines, logger };
}

test('a line written inside a request carries trace_id, span_id and request_id; secrets next to them stay redacted', () => {
  installTraceContext();
  const { lines, logger } = capture();
  const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
  const inRequest = withRequestId(trace.setSpanContext(ROOT_CONTEXT, spanContext), 'req-1');
  context.with(inRequest, () =>
    logger
      .child({ component: 'portal' })
      .info(
        { password: 'hunter22', token: 'tok-secret', sharedSecret: 'nas-secret', user: { newPassword: 'x-secret' } },
        'signed in',
      ),
  );
  logger.info('between requests');
  const [inside, outside] = lines;
  assert.equal(inside?.trace_id, spanContext.traceId);
  assert.equal(inside?.span_id, spanContext.spanId);
  assert.equal(inside?.request_id, 'req-1');
  const text = JSON.stringify(inside);
  for (const secret of ['hunter22', 'tok-secret', 'nas-secret', 'x-secret']) assert.ok(!text.includes(secret), secret);
  assert.equal(inside?.password, '[redacted]');
  assert.equal(outside?.trace_id, undefined, 'outside a request a line has no trace');
  assert.equal(outside?.request_id, undefined);
});
