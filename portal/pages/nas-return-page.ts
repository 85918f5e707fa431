import type { FastifyReply } from 'fastify';
import type { NasReturn } from '../handoff/nas-return.js';
import type { GuestContext } from './guest-context.js';
import type { PageReplies } from './page-replies.js';

/**
 * The page a guest lands on when the NAS sends the browser back: connected (with the way on to
 * where they were going), logged off or out of time (with a fresh login), or a failed login
 * without a hand-off to retry on (a retry link to the NAS's own login). Every text is the
 * guest's language; nothing the NAS sent is shown as is.
 */
export function nasReturnPage(
  reply: FastifyReply,
  pages: PageReplies,
  context: GuestContext,
  back: NasReturn,
): FastifyReply {
  const t = context.t;
  const loginAgain = { href: back.loginAgainUrl ?? '/portal', label: t.logInAgain };
  switch (back.outcome) {
    case 'connected':
      return pages.page(reply, context, 'message', t.connected, {
        heading: t.connected,
        message: t.nasConnected,
        isError: false,
        continueUrl: back.continueUrl,
        action: { href: '/portal/status', label: t.status },
      });
    case 'logged-off':
      return pages.page(reply, context, 'message', t.logOut, {
        heading: t.logOut,
        message: t.loggedOut,
        isError: false,
        continueUrl: null,
        action: loginAgain,
      });
    case 'timed-out':
      return pages.page(reply, context, 'message', t.sessionEnded, {
        heading: t.sessionEnded,
        message: t.nasTimedOut,
        isError: false,
        continueUrl: null,
        action: loginAgain,
      });
    default:
      return pages.page(reply, context, 'message', t.error, {
        heading: t.error,
        message: t.nasFailed,
        isError: true,
        continueUrl: null,
        action: { href: loginAgain.href, label: t.tryAgain },
      });
  }
}

/** A hand-off the portal cannot use: what to do, in plain words, with the NAS's login when known. */
export function brokenHandoffPage(
  reply: FastifyReply,
  pages: PageReplies,
  context: GuestContext,
  back: NasReturn | null,
): FastifyReply {
  void reply.status(400);
  return pages.page(reply, context, 'message', context.t.error, {
    heading: context.t.error,
    message: context.t.handoffBroken,
    isError: true,
    continueUrl: null,
    action: back?.loginAgainUrl ? { href: back.loginAgainUrl, label: context.t.tryAgain } : null,
  });
}
