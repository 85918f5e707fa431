import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forgetDevice } from '../../appliance/devices/devices.js';
import { listSshKeys, MAX_PUBLIC_KEY_LINE_LENGTH, MAX_SSH_KEYS_PER_USER } from '../../appliance/accounts/ssh-keys.js';
import { httpStatusOf, isTurnpikeError, TurnpikeError } from '../../shared/errors.js';
import type { PaymentStatus } from '../../appliance/payments/model.js';
import type { Store } from '../../appliance/store/store.js';
import { format, type Messages } from '../i18n/messages.js';
import { deviceListOf } from './device-list.js';
import { formatDate, formatMoney } from './formatting.js';
import { readContext, type GuestContext } from './guest-context.js';
import { field, formSchema, type FormBody } from './guest-forms.js';
import type { GuestPagesDeps } from './guest-pages.js';
import type { FailFn, PageFn } from './page-replies.js';
import type { PortalSshKeys } from './portal-accounts.js';
import type { IndexSource } from '../../appliance/sessions/collection-index.js';
import { sessionIndexesOf } from '../../appliance/sessions/session-indexes.js';

const signedIn = { roles: ['guest', 'operator', 'admin'] as const };

const STATUS_LABEL: Readonly<Record<PaymentStatus, keyof Messages>> = {
  pending: 'paymentPending',
  paid: 'paymentPaid',
  failed: 'paymentFailed',
  refunded: 'paymentRefunded',
};

/** Enough for two years of a monthly plan while the page stays well under 50 KB; the API lists the rest. */
export const BILLING_ROWS = 24;

/**
 * The guest's own invoices and payments, newest first. The download links are
 * the invoice API's GET routes, which admit the session cookie and answer
 * "not found" for anyone else's invoice.
 */
export function billingOf(store: Store, context: GuestContext) {
  if (!context.userId) return { invoices: [], payments: [], olderHidden: '' };
  const { payments, invoices } = store.db.payments;
  const plans = store.db.plans;
  const own = <T extends { userId: string }>(record: T) => record.userId === context.userId;
  const ownInvoices = Object.values(invoices).filter(own);
  const ownPayments = Object.values(payments).filter(own);
  const truncated = ownInvoices.length > BILLING_ROWS || ownPayments.length > BILLING_ROWS;
  return {
    olderHidden: truncated ? format(context.t.latestOnly, { n: BILLING_ROWS }) : '',
    invoices: ownInvoices
      .sort((a, b) => (a.number < b.number ? 1 : -1))
      .slice(0, BILLING_ROWS)
      .map((invoice) => ({
        number: invoice.number,
        date: formatDate(invoice.issuedAt, context.lang),
        total: formatMoney(invoice.totalMinor, invoice.currency, context.lang),
        status: context.t[STATUS_LABEL[invoice.status]],
        refunded: invoice.status === 'refunded',
        html: `/api/v1/invoices/${encodeURIComponent(invoice.number)}/html`,
        pdf: `/api/v1/invoices/${encodeURIComponent(invoice.number)}/pdf`,
      })),
    payments: ownPayments
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, BILLING_ROWS)
      .map((payment) => ({
        plan: plans[payment.planId]?.name ?? payment.planId,
        date: formatDate(payment.createdAt, context.lang),
        amount: formatMoney(payment.amountMinor, payment.currency, context.lang),
        status: payment.status,
        statusLabel: context.t[STATUS_LABEL[payment.status]],
        failure: payment.status === 'failed' ? (payment.failureMessage ?? '') : '',
      })),
  };
}

/** Whether any of the user's plans, running or not, carries SSH: only then do keys mean anything to them. */
function hasSshPlan(source: IndexSource, userId: string): boolean {
  const db = source.db;
  for (const id of sessionIndexesOf(source).subscriptionsByOwner.lookup(db, `user:${userId}`)) {
    if (db.plans[db.subscriptions[id]!.planId]?.services.includes('ssh')) return true;
  }
  return false;
}

/**
 * The user's keys for the page, or null when there is nothing to show: the SSH key forms are not
 * wired, nobody is signed in, or the guest has no plan with SSH and no key left from one.
 */
function sshKeysOf(deps: GuestPagesDeps, context: GuestContext) {
  if (!deps.accounts?.sshKeys || !context.userId || !deps.store.db.users[context.userId]) return null;
  const keys = listSshKeys(deps.store.db, context.userId);
  if (keys.length === 0 && !hasSshPlan(deps.store, context.userId)) return null;
  return keys.map((key) => ({
    id: key.id,
    type: key.type,
    comment: key.comment,
    fingerprint: key.fingerprint,
  }));
}

/** A refused key in the guest's language; the parser's reason is technical, so it stays as it is. */
function sshKeyFailure(context: GuestContext, err: unknown): string | null {
  if (!isTurnpikeError(err)) return null;
  const reason = err.details?.reason;
  if (err.code === 'TP_ERR_VALIDATION' && typeof reason === 'string') return `${context.t.sshKeyInvalid}: ${reason}.`;
  if (reason === 'duplicate') return context.t.sshKeyDuplicate;
  if (reason === 'limit') return format(context.t.sshKeyLimit, { n: MAX_SSH_KEYS_PER_USER });
  return null;
}

/** The guest's account: devices (forget one), password change, SSH keys, invoices and payments. */
export function accountPages(app: FastifyInstance, deps: GuestPagesDeps, page: PageFn, failPage: FailFn): void {
  function accountData(context: GuestContext) {
    const user = context.userId ? deps.store.db.users[context.userId] : undefined;
    const devices = deviceListOf(deps.store, context);
    return {
      email: user?.email ?? '',
      devices,
      sshKeys: sshKeysOf(deps, context),
      ...billingOf(deps.store, context),
      notice: null,
      error: null,
    };
  }

  app.get('/portal/account', { config: signedIn, schema: { hide: true } }, async (request, reply) => {
    const context = readContext(deps, request, reply);
    return page(reply, context, 'account', context.t.account, accountData(context));
  });

  /**
   * A signed-in form of the account page: `act` does the change and returns the notice to show on
   * the page again, or null to redirect back to it. A failure shows the page with its error, in
   * `explain`'s words when it has some for it.
   */
  function accountForm(
    path: string,
    act: (context: GuestContext, body: FormBody, request: FastifyRequest) => Promise<string | null>,
    options: { rateLimitPerMinute?: number; explain?: (context: GuestContext, err: unknown) => string | null } = {},
  ): void {
    const rateLimit =
      options.rateLimitPerMinute === undefined
        ? {}
        : { rateLimit: { max: options.rateLimitPerMinute, timeWindow: 60_000 } };
    app.post(
      path,
      { config: { ...signedIn, ...rateLimit }, schema: { hide: true, ...formSchema }, preHandler: app.csrfProtection },
      async (request, reply) => {
        const context = readContext(deps, request, reply);
        try {
          const notice = await act(context, request.body as FormBody, request);
          if (notice === null) return reply.redirect('/portal/account', 303);
          return page(reply, context, 'account', context.t.account, { ...accountData(context), notice });
        } catch (err) {
          const text = options.explain?.(context, err) ?? null;
          if (text === null || !isTurnpikeError(err))
            return failPage(reply, context, err, 'account', accountData(context));
          reply.status(httpStatusOf(err.code));
          return page(reply, context, 'account', context.t.account, { ...accountData(context), error: text });
        }
      },
    );
  }

  function sshKeysOfSignedIn(context: GuestContext): { sshKeys: PortalSshKeys; userId: string } {
    const sshKeys = deps.accounts?.sshKeys;
    if (!sshKeys || !context.userId) throw new TurnpikeError('TP_ERR_UNAVAILABLE');
    return { sshKeys, userId: context.userId };
  }

  accountForm(
    '/portal/account/password',
    async (context, body, request) => {
      if (!deps.accounts || !context.userId) throw new TurnpikeError('TP_ERR_UNAVAILABLE');
      await deps.accounts.changePassword(
        {
          userId: context.userId,
          sessionId: request.principal?.sessionId ?? null,
          currentPassword: field(body, 'currentPassword'),
          newPassword: field(body, 'newPassword'),
        },
        { ip: context.ip },
      );
      return context.t.passwordChanged;
    },
    { rateLimitPerMinute: deps.config.portal.authRateLimitPerMinute },
  );

  accountForm('/portal/account/devices/forget', async (context, body) => {
    await forgetDevice(deps.store, context.ownerKey ?? '', field(body, 'deviceId'));
    return null;
  });

  accountForm(
    '/portal/account/ssh-keys',
    async (context, body) => {
      const { sshKeys, userId } = sshKeysOfSignedIn(context);
      await sshKeys.add(userId, field(body, 'publicKey', MAX_PUBLIC_KEY_LINE_LENGTH), { ip: context.ip });
      return context.t.sshKeyAdded;
    },
    { explain: sshKeyFailure },
  );

  accountForm('/portal/account/ssh-keys/remove', async (context, body) => {
    const { sshKeys, userId } = sshKeysOfSignedIn(context);
    await sshKeys.remove(userId, field(body, 'keyId'), { ip: context.ip });
    return context.t.sshKeyRemoved;
  });
}
