import { answersRadius, isTurnpikeError } from '../../../shared/errors.js';
import { denialAt } from '../../entitlements/entitlement.js';
import { consumePortalCredential } from '../../portal-credentials/portal-credentials.js';
import { deny, proofMatches, type LoginDecision, type LoginMechanism } from './login-mechanism.js';

/**
 * The one-time credential the portal handed to the guest's browser for the NAS login page. It
 * names its subscription and device, and is spent by the login it admits.
 */
export const portalCredential: LoginMechanism = {
  name: 'portal-credential',

  claims: (request, context) => context.store.db.portalCredentials[request.userName] !== undefined,

  async authenticate(request, context): Promise<LoginDecision> {
    const { store, clock } = context;
    const credential = store.db.portalCredentials[request.userName];
    if (!credential || !proofMatches(request.proof, credential.password))
      return deny('portal-credential', 'TP_ERR_INVALID_CREDENTIALS');
    const now = clock.now();
    // Only the holder of the right password learns that the credential is spent or stale.
    if (credential.usedAt !== null || credential.expiresAt <= now)
      return deny('portal-credential', 'TP_ERR_TOKEN_INVALID');
    const subscription = store.db.subscriptions[credential.subscriptionId];
    const denial = subscription ? denialAt(store.db, subscription, now) : 'TP_ERR_ENTITLEMENT_EXPIRED';
    if (!subscription || denial) return deny('portal-credential', denial ?? 'TP_ERR_ENTITLEMENT_EXPIRED');
    const admission = context.admit(subscription, request, now);
    if ('refusal' in admission) return deny('portal-credential', admission.refusal);
    try {
      await consumePortalCredential(store, clock, {
        username: credential.username,
        mac: request.mac,
        verify: (password) => proofMatches(request.proof, password),
      });
    } catch (err) {
      // A store that cannot write right now is no answer, not a reject: the NAS retries.
      if (isTurnpikeError(err) && answersRadius(err.code)) return deny('portal-credential', err.code);
      throw err;
    }
    return { ok: true, method: 'portal-credential', entitlement: admission.entitlement, mac: request.mac };
  },
};
