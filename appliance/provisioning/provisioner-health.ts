import { notAfterOf } from '../pki/certificates.js';
import type { TlsMaterial } from '../pki/pki-store.js';
import type { ProvisionerRouter } from './provisioner-router.js';
import type { ProvisioningReconciler, ReconcileReport } from './reconciler.js';

/** What the console shows of one site's provisioner. */
export interface SiteHealth {
  site: string;
  address: string;
  /** The health probe's latest answer. */
  reachable: boolean;
  /** When a call or probe last succeeded (ms since the epoch), or null. */
  lastOkAt: number | null;
  lastError: { at: number; message: string } | null;
  /**
   * When the mTLS material the appliance presents to this site stops working: the earlier of its
   * client certificate and the CA (ms). One PKI serves every site, so the date is the same for all.
   */
  certificateExpiresAt: number | null;
  /** The last reconcile round: corrections it had to make (drift) and calls that failed. */
  lastRound: { reachable: boolean; corrected: number; failures: number } | null;
}

/** What a round corrected: every entry or account the provisioner had wrong, and a replaced walled garden. */
function correctedBy(report: ReconcileReport): number {
  return (
    report.allowed + report.revoked + report.ensured + report.suspended + report.deleted + (report.gardenSet ? 1 : 0)
  );
}

function expiryOf(tls: TlsMaterial): number | null {
  try {
    return Math.min(notAfterOf(tls.cert.toString('utf8')), notAfterOf(tls.ca.toString('utf8')));
  } catch {
    return null;
  }
}

/**
 * Per-site provisioner health, read from what the appliance already has: each client's probe and
 * call outcomes, the reconcile loop's reports, and the PKI it presents. Nothing is polled for it.
 */
export class ProvisionerHealth {
  readonly #router: ProvisionerRouter;
  readonly #expiresAt: number | null;
  readonly #rounds = new Map<string, SiteHealth['lastRound']>();

  constructor(options: { router: ProvisionerRouter; reconciler: ProvisioningReconciler; tls: TlsMaterial }) {
    this.#router = options.router;
    this.#expiresAt = expiryOf(options.tls);
    options.reconciler.onReport((report) =>
      this.#rounds.set(report.site, {
        reachable: report.reachable,
        corrected: correctedBy(report),
        failures: report.failures,
      }),
    );
  }

  sites(): SiteHealth[] {
    return this.#router
      .all()
      .map((target) => ({
        site: target.site,
        address: target.client.address,
        reachable: target.client.healthy,
        lastOkAt: target.client.lastOkAt,
        lastError: target.client.lastError,
        certificateExpiresAt: this.#expiresAt,
        lastRound: this.#rounds.get(target.site) ?? null,
      }))
      .sort((a, b) => a.site.localeCompare(b.site));
  }
}
