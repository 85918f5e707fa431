import type { FastifyInstance } from 'fastify';
import { otpauthUrl } from '../../appliance/accounts/totp.js';
import { securitySetupOf } from '../../appliance/accounts/users.js';
import { STAFF } from '../api/auth-schemas.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';
import type { StaffSession } from './staff-session.js';

/** The secret in groups of four for typing, and the same secret as a QR code (SVG, drawn here). */
async function enrolmentView(secret: string, url: string): Promise<{ secret: string; qrSvg: string }> {
  // Imported on the first enrolment, not at start: the appliance would hold it for nothing until then.
  const { default: QRCode } = await import('qrcode');
  const qrSvg = await QRCode.toString(url, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
  return { secret: secret.replace(/(.{4})/g, '$1 ').trim(), qrSvg };
}

/**
 * The security setup a staff account owes before the console opens: its own password (the first
 * admin signs in with a one-time password), then TOTP enrolment with a QR code drawn on the box
 * and recovery codes shown once.
 */
export function setupPages(app: FastifyInstance, deps: AdminPagesDeps, replies: AdminReplies, session: StaffSession) {
  const { flows, users } = deps.accounts;
  const pending = { allowPendingMfa: true };

  function stepsOf(userId: string, mfaSatisfied: boolean) {
    return securitySetupOf(users.getUser(userId), mfaSatisfied);
  }

  app.get('/admin/setup', pageRoute(STAFF, pending), async (request, reply) => {
    const principal = request.principal!;
    const steps = stepsOf(principal.userId, principal.mfaSatisfied);
    if (steps.includes('password-change')) return reply.redirect('/admin/setup/password', 303);
    if (steps.includes('mfa-enrolment')) return reply.redirect('/admin/setup/mfa', 303);
    // A session that skipped its second factor cannot add one afterwards: sign in again.
    if (steps.includes('second-factor')) {
      session.end(reply);
      return reply.redirect('/admin/login', 303);
    }
    return reply.redirect('/admin', 303);
  });

  app.get('/admin/setup/password', pageRoute(STAFF, pending), async (request, reply) => {
    const t = replies.t(request, reply);
    return replies.page(request, reply, 'password', t.changePasswordTitle, {});
  });

  app.post('/admin/setup/password', formRoute(app, STAFF, pending), async (request, reply) => {
    const t = replies.t(request, reply);
    const principal = request.principal!;
    const body = request.body as FormBody;
    try {
      await flows.changePassword(
        {
          userId: principal.userId,
          sessionId: principal.sessionId,
          currentPassword: field(body, 'currentPassword', 200),
          newPassword: field(body, 'newPassword', 200),
        },
        { ip: request.ip },
      );
      return reply.redirect('/admin/setup', 303);
    } catch (err) {
      const error = replies.failureText(request, reply, err);
      return replies.page(request, reply, 'password', t.changePasswordTitle, {}, { error });
    }
  });

  async function enrolPage(userId: string) {
    const started = await flows.beginMfaEnrolment(userId);
    return enrolmentView(started.secret, started.otpauthUrl);
  }

  app.get('/admin/setup/mfa', pageRoute(STAFF, pending), async (request, reply) => {
    const t = replies.t(request, reply);
    const principal = request.principal!;
    if (!stepsOf(principal.userId, principal.mfaSatisfied).includes('mfa-enrolment')) {
      return reply.redirect('/admin/setup', 303);
    }
    return replies.page(request, reply, 'enrol', t.enrolTitle, await enrolPage(principal.userId));
  });

  app.post('/admin/setup/mfa', formRoute(app, STAFF, pending), async (request, reply) => {
    const t = replies.t(request, reply);
    const principal = request.principal!;
    const code = field(request.body as FormBody, 'code', 12).replace(/\s/g, '');
    try {
      const { recoveryCodes, tokens } = await flows.confirmMfaEnrolment(
        { userId: principal.userId, sessionId: principal.sessionId, code },
        { ip: request.ip },
      );
      session.start(reply, tokens);
      return replies.page(request, reply, 'recovery', t.recoveryTitle, { recoveryCodes });
    } catch (err) {
      const error = replies.failureText(request, reply, err);
      // The secret on the failed page stays the one being enrolled: show it again, do not restart.
      const user = deps.store.db.users[principal.userId];
      const secret = user?.mfa?.enabledAt === null ? user.mfa.secret : null;
      if (!secret)
        return replies.page(request, reply, 'message', t.errorTitle, { text: null, link: '/admin/setup' }, { error });
      return replies.page(
        request,
        reply,
        'enrol',
        t.enrolTitle,
        await enrolmentView(secret, otpauthUrl(secret, user!.email)),
        { error },
      );
    }
  });
}
