import type { FastifyReply } from 'fastify';
import { ERRORS, isTurnpikeError, type ErrorCode } from '../../shared/errors.js';
import { errorMessage, type Language } from '../i18n/messages.js';
import { CSRF_COOKIE } from '../plugins/security.js';
import { frameOf, termsOf, type ContextDeps, type GuestContext } from './guest-context.js';
import type { PageName, PageRenderer } from './renderer.js';

export interface PageRepliesDeps extends ContextDeps {
  renderer: PageRenderer;
}

/** Renders a guest page in the venue's frame, with a CSRF token for its forms. */
export type PageFn = (
  reply: FastifyReply,
  context: GuestContext,
  name: PageName,
  title: string,
  data: Record<string, unknown>,
) => FastifyReply;

/** Shows a failed form's page again with the error's message and HTTP status. */
export type FailFn = (
  reply: FastifyReply,
  context: GuestContext,
  err: unknown,
  name: PageName,
  data: Record<string, unknown>,
) => FastifyReply;

export interface PageReplies {
  page: PageFn;
  failPage: FailFn;
  /** A failure with no form to show it on: the message page. */
  failMessagePage(reply: FastifyReply, context: GuestContext, err: unknown): FastifyReply;
  /**
   * Sets a failure's HTTP status (and Retry-After) on the reply, logs it if it is a bug, and returns
   * its message in the guest's language, for pages that show the error their own way.
   */
  failureText(reply: FastifyReply, context: GuestContext, err: unknown): string;
  /** The CSRF token for the reply's forms. */
  csrfToken(reply: FastifyReply): string;
}

/** A coded error's message in the guest's language; anything else is an internal error to them. */
export function messageOf(lang: Language, err: unknown): { code: ErrorCode; text: string } {
  if (isTurnpikeError(err)) return { code: err.code, text: errorMessage(lang, err.code, err.message) };
  return { code: 'TP_ERR_INTERNAL', text: errorMessage(lang, 'TP_ERR_INTERNAL', ERRORS.TP_ERR_INTERNAL.message) };
}

/** Guest pages carry tokens and personal state, so no cache may keep them. */
export function sendHtml(reply: FastifyReply, html: string | Buffer): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

export function createPageReplies(deps: PageRepliesDeps): PageReplies {
  // A token is derived from the client's CSRF secret cookie and stays valid for it, so a client
  // that keeps its cookie reuses one token instead of paying an HMAC and a hash on every page.
  const csrfTokens = new Map<string, string>();
  function csrfToken(reply: FastifyReply): string {
    const cookie = reply.request.cookies[CSRF_COOKIE];
    const cached = cookie ? csrfTokens.get(cookie) : undefined;
    if (cached) return cached;
    const token = reply.generateCsrf();
    if (cookie && reply.request.unsignCookie(cookie).valid) {
      if (csrfTokens.size >= 10_000) csrfTokens.clear();
      csrfTokens.set(cookie, token);
    }
    return token;
  }

  const page: PageFn = (reply, context, name, title, data) => {
    const frame = frameOf(deps, context, title, csrfToken(reply));
    return sendHtml(reply, deps.renderer.render(name, frame, { nas: context.nasToken, ...data }));
  };

  function failureText(reply: FastifyReply, context: GuestContext, err: unknown): string {
    const { code, text } = messageOf(context.lang, err);
    if (code === 'TP_ERR_INTERNAL') reply.log.error({ err }, 'guest page failed');
    const status = code === 'TP_ERR_RATE_LIMITED' ? 429 : (ERRORS[code]?.http ?? 500);
    if (code === 'TP_ERR_RATE_LIMITED' && isTurnpikeError(err) && typeof err.details?.retryAfterSeconds === 'number') {
      void reply.header('retry-after', String(err.details.retryAfterSeconds));
    }
    void reply.status(status);
    return text;
  }

  const failPage: FailFn = (reply, context, err, name, data) => {
    const error = failureText(reply, context, err);
    return page(reply, context, name, context.t.error, { ...data, terms: termsOf(deps, context.lang), error });
  };

  function failMessagePage(reply: FastifyReply, context: GuestContext, err: unknown): FastifyReply {
    const text = messageOf(context.lang, err).text;
    return failPage(reply, context, err, 'message', { heading: context.t.error, message: text, isError: true });
  }

  return { page, failPage, failMessagePage, failureText, csrfToken };
}
