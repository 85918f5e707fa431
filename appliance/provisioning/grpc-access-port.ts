import type { AccessPort, AllowClientRequest, RevokeClientRequest } from './access-port.js';
import type { ProvisionerRouter } from './provisioner-router.js';

/**
 * The access port in gateway mode: each call goes to the provisioner of the
 * guest's site. A failure rejects with the mapped TurnpikeError
 * (TP_ERR_VALIDATION, TP_ERR_UNAVAILABLE, …); the reconcile loop repairs
 * whatever a failed call left undone.
 */
export class GrpcAccessPort implements AccessPort {
  readonly #router: ProvisionerRouter;

  constructor(router: ProvisionerRouter) {
    this.#router = router;
  }

  async allowClient(req: AllowClientRequest): Promise<void> {
    await this.#router.forClient(req.ip).client.allowClient({
      ip: req.ip,
      mac: req.mac,
      seconds: Math.max(1, Math.ceil(req.seconds)),
      upKbps: req.upKbps,
      downKbps: req.downKbps,
      sessionId: req.sessionId,
    });
  }

  async revokeClient(req: RevokeClientRequest): Promise<void> {
    await this.#router.forClient(req.ip).client.revokeClient({ ip: req.ip, mac: req.mac, sessionId: req.sessionId });
  }
}
