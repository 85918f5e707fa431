/**
 * The guest journey's door to the firewall in gateway mode. The domain calls it
 * when a session starts or ends; where the calls go (an in-memory table in tests,
 * the provisioner over gRPC in production) is the implementation's business.
 *
 * Both operations are idempotent: allowing a client twice leaves one entry (the
 * later call's time and rates win), revoking an unknown client succeeds. A
 * rejected argument rejects with `TurnpikeError('TP_ERR_VALIDATION')`; an
 * unreachable provisioner with `TurnpikeError('TP_ERR_UNAVAILABLE')` — the
 * reconcile loop converges the firewall later either way, so callers may log
 * and carry on.
 */
import { systemClock, type Clock } from '../../shared/clock.js';

export interface AllowClientRequest {
  /** IPv4 or IPv6 address of the guest device, as the gateway sees it. */
  ip: string;
  /** MAC address, any common notation (normalized by the implementation). */
  mac: string;
  /** Remaining session time in seconds (> 0); becomes the nft element timeout. */
  seconds: number;
  /** Upload limit in kbit/s; 0 = no limit. */
  upKbps: number;
  /** Download limit in kbit/s; 0 = no limit. */
  downKbps: number;
  /** The `Session.id` this entry belongs to; used for reconciliation. */
  sessionId: string;
}

export interface RevokeClientRequest {
  ip: string;
  mac: string;
  sessionId: string;
}

export interface AccessPort {
  allowClient(req: AllowClientRequest): Promise<void>;
  revokeClient(req: RevokeClientRequest): Promise<void>;
}

export interface MemoryAccessEntry extends AllowClientRequest {
  /** Clock time (ms) at which the entry lapses on its own. */
  expiresAt: number;
}

/** Keeps allowed clients in a map keyed by session id; for tests and the embedded box without a gateway. */
export class MemoryAccessPort implements AccessPort {
  readonly #entries = new Map<string, MemoryAccessEntry>();
  readonly #clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async allowClient(req: AllowClientRequest): Promise<void> {
    this.#entries.set(req.sessionId, { ...req, expiresAt: this.#clock.now() + req.seconds * 1000 });
  }

  async revokeClient(req: RevokeClientRequest): Promise<void> {
    this.#entries.delete(req.sessionId);
    for (const [id, entry] of this.#entries) {
      if (entry.ip === req.ip) this.#entries.delete(id);
    }
  }

  /** Entries still within their time, for assertions. */
  allowed(): MemoryAccessEntry[] {
    const now = this.#clock.now();
    return [...this.#entries.values()].filter((e) => e.expiresAt > now);
  }

  isAllowed(ip: string): boolean {
    return this.allowed().some((e) => e.ip === ip);
  }
}
