import type { FastifyInstance } from 'fastify';
import { ownerKeyOf } from '../../appliance/entitlements/entitlement.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { normalizeCode } from '../../appliance/vouchers/codes.js';
import { inSpan } from '../../shared/telemetry/tracing.js';
import { redeemVoucher } from '../../appliance/vouchers/redeem.js';
import { readContext, rememberVoucher, termsOf } from './guest-context.js';
import { assertTermsAccepted, field, formSchema, type FormBody } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import { finishLogin } from './journey.js';
import type { PageReplies } from './page-replies.js';

/** Redeeming a voucher code; wrong guesses count against the address and MAC (`GuessLimiter`). */
export function voucherPage(app: FastifyInstance, deps: GuestPagesDeps, pages: PageReplies): void {
  const { store, clock } = deps;
  const voucherRoute = {
    config: { public: true, rateLimit: { max: deps.voucherRateLimitPerMinute ?? 20, timeWindow: 60_000 } },
    schema: { hide: true },
  };

  app.get('/portal/voucher', voucherRoute, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return pages.page(reply, context, 'voucher', context.t.haveVoucher, {
      code: '',
      terms: termsOf(deps, context.lang),
      error: null,
    });
  });

  app.post(
    '/portal/voucher',
    { ...voucherRoute, schema: { ...voucherRoute.schema, ...formSchema }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const context = readContext(deps, request, reply);
      const body = request.body as FormBody;
      const code = normalizeCode(field(body, 'code', 40));
      const formData = { code: field(body, 'code', 40), terms: termsOf(deps, context.lang) };
      const keys = [`ip:${context.ip}`, ...(context.mac ? [`mac:${context.mac}`] : [])];
      try {
        assertTermsAccepted(body, context.t);
        deps.guessLimiter.assertAllowed(keys);
        let subscription;
        try {
          subscription = await inSpan('voucher.redeem', {}, () =>
            redeemVoucher(store, clock, { code, mac: context.mac, deviceId: context.deviceId }),
          );
        } catch (err) {
          if (isTurnpikeError(err, 'TP_ERR_VOUCHER_INVALID') || isTurnpikeError(err, 'TP_ERR_VOUCHER_USED')) {
            await deps.guessLimiter.recordFailure(keys);
          }
          throw err;
        }
        await deps.guessLimiter.recordSuccess(keys);
        rememberVoucher(deps, reply, code);
        const ownerKey = ownerKeyOf(subscription);
        await finishLogin(deps, { ...context, ownerKey }, ownerKey, reply);
        return reply;
      } catch (err) {
        return pages.failPage(reply, context, err, 'voucher', formData);
      }
    },
  );
}
