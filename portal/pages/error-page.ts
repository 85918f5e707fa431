import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, isTurnpikeError, TurnpikeError, type ErrorCode } from '../../shared/errors.js';
import { COOKIE_NAS, frameOf, readContext, rememberHandoff, type ContextDeps } from './guest-context.js';
import { messageOf } from './page-replies.js';
import type { PageRenderer } from './renderer.js';

/** Answers a failed guest form post with the portal's HTML error page instead of the API's JSON body. */
export type ErrorPage = (request: FastifyRequest, reply: FastifyReply, err: unknown) => FastifyReply;

/** Framework failures (CSRF, rate limit, schema) as the coded errors the guest's messages know. */
export function pageErrorOf(err: unknown): TurnpikeError {
  if (isTurnpikeError(err)) return err;
  const { statusCode, code, validation } = err as { statusCode?: number; code?: string; validation?: unknown };
  const mapped: ErrorCode =
    statusCode === 429
      ? 'TP_ERR_RATE_LIMITED'
      : String(code ?? '').startsWith('FST_CSRF')
        ? 'TP_ERR_CSRF'
        : validation
          ? 'TP_ERR_VALIDATION'
          : 'TP_ERR_INTERNAL';
  return new TurnpikeError(mapped);
}

export function createErrorPage(deps: ContextDeps, renderer: PageRenderer): ErrorPage {
  return (request, reply, err) => {
    const context = readContext(deps, request, reply);
    const failure = pageErrorOf(err);
    const { code, text } = messageOf(context.lang, failure);
    if (code === 'TP_ERR_INTERNAL') reply.log.error({ err }, 'guest page failed');
    // The hand-off came with the form; the cookie keeps it for the "back" link so the NAS login still works.
    if (context.handoff && !request.cookies[COOKIE_NAS]) rememberHandoff(deps, reply, context.handoff);
    const retryAfter = failure.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    const html = renderer.render('message', frameOf(deps, context, context.t.error, reply.generateCsrf()), {
      nas: context.nasToken,
      heading: context.t.error,
      message: text,
      isError: true,
      continueUrl: null,
    });
    return reply
      .status(ERRORS[code]?.http ?? 500)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(html);
  };
}
