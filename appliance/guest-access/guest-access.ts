import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Device, PortalCredential, Session } from '../domain/model.js';
import { bindDeviceIn } from '../devices/devices.js';
import { normalizeMac, type Entitlement } from '../entitlements/entitlement.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { mintPortalCredential } from '../portal-credentials/portal-credentials.js';
import type { AccessPort } from '../provisioning/access-port.js';
import { firewallGrantOf, sessionLimitsOf } from '../sessions/limits.js';
import { peekRow } from '../store/staged-mutation.js';
import type { Store } from '../store/store.js';
import { inSpan } from '../../shared/telemetry/tracing.js';
import { admitOwnerDevice } from '../sessions/device-admission.js';
import { sessionIndexesOf } from '../sessions/session-indexes.js';
import type { IndexSource } from '../sessions/collection-index.js';

export interface GuestAccessDeps {
  store: Store;
  clock: Clock;
  /** Gateway mode: the firewall door. Null in controller mode. */
  accessPort: AccessPort | null;
  logger: Logger;
  interimIntervalSeconds: number;
  /** Gateway mode: the firewall entry's time for a plan without an end (`gateway.openEndedSessionSeconds`). */
  openEndedSeconds: number;
}

export interface ConnectInput {
  ownerKey: string;
  mac: string | null;
  ip: string | null;
  deviceId: string | null;
  /** Controller mode: a NAS is waiting for a one-time credential. Gateway mode: the box opens its own firewall. */
  mode: 'controller' | 'gateway';
  /** What the guest sees in their device list, e.g. "iPhone"; kept when absent. */
  label?: string;
}

export type ConnectResult =
  | { mode: 'controller'; credential: PortalCredential; entitlement: Entitlement; device: Device }
  | { mode: 'gateway'; session: Session; entitlement: Entitlement; device: Device };

/**
 * The last step of every guest login: pick the owner's best entitlement,
 * enforce the device limit, remember the device, then either mint the NAS's
 * one-time credential or open the gateway for the client.
 */
export class GuestAccess {
  readonly #deps: GuestAccessDeps;

  constructor(deps: GuestAccessDeps) {
    this.#deps = deps;
  }

  async connect(input: ConnectInput): Promise<ConnectResult> {
    const { store, clock } = this.#deps;
    const mac = input.mac === null ? null : normalizeMac(input.mac);
    if (input.mac !== null && mac === null)
      throw new TurnpikeError('TP_ERR_VALIDATION', `mac: ${input.mac} is not a MAC address`);
    if (input.mode === 'gateway' && !input.ip)
      throw new TurnpikeError('TP_ERR_VALIDATION', 'the client address is unknown');
    const entitlement = this.#admit(input.ownerKey, mac, input.ip);

    if (input.mode === 'controller') {
      const device = await store.update((db) =>
        bindDeviceIn(store, db, clock.now(), {
          ownerKey: input.ownerKey,
          mac,
          deviceId: input.deviceId,
          ...labelOf(input),
        }),
      );
      const credential = await mintPortalCredential(store, clock, { subscriptionId: entitlement.subscription.id, mac });
      return { mode: 'controller', credential, entitlement, device };
    }
    return inSpan('gateway.open', { 'turnpike.mode': 'gateway' }, () => this.#openGateway(input, mac, entitlement));
  }

  /** The owner's best plan, admitted for this device by the rule RADIUS logins follow too. */
  #admit(ownerKey: string, mac: string | null, ip: string | null): Entitlement {
    const { store, clock } = this.#deps;
    const admission = admitOwnerDevice(store, ownerKey, { mac, ip }, clock.now());
    if ('refusal' in admission) throw new TurnpikeError(admission.refusal, undefined, admission.deviceLimit);
    return admission.entitlement;
  }

  async #openGateway(input: ConnectInput, mac: string | null, entitlement: Entitlement): Promise<ConnectResult> {
    const { store, clock, accessPort } = this.#deps;
    if (!accessPort) throw new TurnpikeError('TP_ERR_UNAVAILABLE', 'gateway mode has no access port');
    const ip = input.ip!;
    const { session, device } = await store.update((db) => {
      const now = clock.now();
      const device = bindDeviceIn(store, db, now, {
        ownerKey: input.ownerKey,
        mac,
        deviceId: input.deviceId,
        ...labelOf(input),
      });
      if (!mac && !device.mac) throw new TurnpikeError('TP_ERR_DEVICE_UNSEEN', undefined, { ip });
      // Found on the plain view (the draft's base): reading the draft would draft the sessions it touches.
      const existingId = gatewaySessionAt(store, ip)?.id;
      const existing = existingId === undefined ? undefined : peekRow(db.sessions, existingId);
      const session: Session = {
        id: existing?.ownerKey === input.ownerKey ? existing.id : randomUUID(),
        subscriptionId: entitlement.subscription.id,
        ownerKey: input.ownerKey,
        nasId: null,
        acctSessionId: null,
        mode: 'gateway',
        mac: mac || device.mac,
        ip,
        startedAt: existing?.ownerKey === input.ownerKey ? existing.startedAt : now,
        lastUpdateAt: now,
        interimIntervalSeconds: this.#deps.interimIntervalSeconds,
        inputOctets: existing?.ownerKey === input.ownerKey ? existing.inputOctets : 0,
        outputOctets: existing?.ownerKey === input.ownerKey ? existing.outputOctets : 0,
        chargedOctets: existing?.ownerKey === input.ownerKey ? existing.chargedOctets : 0,
        disconnectPendingSince: null,
      };
      if (existing && existing.id !== session.id) delete db.sessions[existing.id];
      db.sessions[session.id] = session;
      return { session, device };
    });
    const limits = sessionLimitsOf(entitlement, this.#deps.interimIntervalSeconds);
    await accessPort.allowClient({
      ip,
      mac: session.mac,
      ...firewallGrantOf(limits, this.#deps.openEndedSeconds),
      sessionId: session.id,
    });
    return { mode: 'gateway', session, entitlement, device };
  }

  /** Ends the gateway session of the client at `ip` (log out). Controller sessions end at their NAS. */
  async disconnect(input: { ownerKey: string; ip: string }): Promise<Session | null> {
    const { store, clock, accessPort, logger } = this.#deps;
    const found = gatewaySessionAt(store, input.ip);
    const session = found?.ownerKey === input.ownerKey ? found : undefined;
    if (!session) return null;
    await store.update((db) => {
      delete db.sessions[session.id];
    });
    await store.history('closed-sessions').append({ ...session, endedAt: clock.now(), cause: 'user-logout' });
    try {
      await accessPort?.revokeClient({ ip: session.ip ?? input.ip, mac: session.mac, sessionId: session.id });
    } catch (err) {
      // The reconcile loop removes the firewall entry later; the session is already closed in the store.
      logger.warn({ err, sessionId: session.id }, 'revokeClient failed');
    }
    return session;
  }
}

function labelOf(input: ConnectInput): { label?: string } {
  return input.label ? { label: input.label } : {};
}

/** The live session of whoever is at `ip`, for the status page and the captive API. */
export function sessionAt(source: IndexSource, ip: string): Session | null {
  const id = sessionIndexesOf(source).sessionsByIp.lookup(source.db, ip)[0];
  return id === undefined ? null : (source.db.sessions[id] ?? null);
}

function gatewaySessionAt(source: IndexSource, ip: string): Session | null {
  for (const id of sessionIndexesOf(source).sessionsByIp.lookup(source.db, ip)) {
    const session = source.db.sessions[id];
    if (session?.mode === 'gateway') return session;
  }
  return null;
}
