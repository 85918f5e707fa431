import type { FastifyReply } from 'fastify';
import type { Config } from '../../appliance/config/schema.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { GuestAccess } from '../../appliance/guest-access/guest-access.js';
import type { Store } from '../../appliance/store/store.js';
import { nasLoginUrl } from '../handoff/nas-login-url.js';
import type { GuestContext } from './guest-context.js';
import { rememberDevice, type ContextDeps } from './guest-context.js';

export interface JourneyDeps extends ContextDeps {
  store: Store;
  config: Config;
  guestAccess: GuestAccess;
}

/**
 * The end of every successful login: controller mode sends the browser to
 * the NAS with a one-time credential; gateway mode opens the firewall and
 * shows the status page. Without a NAS context and without a gateway there is
 * nothing to open: the status page says so.
 */
export async function finishLogin(
  deps: JourneyDeps,
  context: GuestContext,
  ownerKey: string,
  reply: FastifyReply,
): Promise<void> {
  const handoff = context.handoff;
  if (!handoff && !deps.config.gateway.enabled) {
    void reply.redirect('/portal/status', 303);
    return;
  }
  const result = await deps.guestAccess.connect({
    ownerKey,
    mac: context.mac,
    ip: handoff?.ip ?? context.ip,
    deviceId: context.deviceId,
    mode: handoff ? 'controller' : 'gateway',
    label: context.deviceLabel,
  });
  rememberDevice(deps, reply, result.device.id);
  if (result.mode === 'controller' && handoff) {
    const nas = deps.store.db.nasClients[handoff.nasId];
    if (!nas) throw new TurnpikeError('TP_ERR_NAS_UNKNOWN');
    void reply.redirect(nasLoginUrl(handoff, nas, result.credential), 303);
    return;
  }
  void reply.redirect('/portal/status', 303);
}
