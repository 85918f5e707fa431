import type { FastifyInstance } from 'fastify';
import type { GuessLimiter } from '../../appliance/vouchers/guess-limiter.js';
import { accountPages } from './account-pages.js';
import { pageErrorOf } from './error-page.js';
import { freeTierPage } from './free-tier-page.js';
import { readContext } from './guest-context.js';
import type { JourneyDeps } from './journey.js';
import { landingPage } from './landing-page.js';
import { createPageReplies } from './page-replies.js';
import type { PortalAccounts } from './portal-accounts.js';
import type { PageRenderer } from './renderer.js';
import { signInPages } from './sign-in-pages.js';
import { statusPage } from './status-page.js';
import { voucherPage } from './voucher-page.js';

export interface GuestPagesDeps extends JourneyDeps {
  renderer: PageRenderer;
  accounts: PortalAccounts | null;
  guessLimiter: GuessLimiter;
  /** Voucher attempts per minute per address before the route refuses outright. */
  voucherRateLimitPerMinute?: number;
  /** Tells a subscription's live sessions their new limits after a top-up; without it they learn at their next login. */
  limitsChanged?: (subscriptionId: string) => Promise<unknown>;
}

/** The captive pages a guest walks through: landing, vouchers, free tier, sign-up, login, status, log out. */
export async function guestPages(app: FastifyInstance, deps: GuestPagesDeps): Promise<void> {
  const pages = createPageReplies(deps);

  // Failures the handlers did not catch themselves (CSRF, rate limit, bad form) still answer with a page.
  app.setErrorHandler((err, request, reply) => {
    const context = readContext(deps, request, reply);
    const failure = pageErrorOf(err);
    if (failure.code === 'TP_ERR_UNAUTHENTICATED' && request.method === 'GET') {
      return reply.redirect('/portal/login', 303);
    }
    return pages.failMessagePage(reply, context, failure);
  });

  landingPage(app, deps, pages);
  voucherPage(app, deps, pages);
  freeTierPage(app, deps, pages);
  statusPage(app, deps, pages);
  signInPages(app, deps, pages);
  accountPages(app, deps, pages.page, pages.failPage);
}
