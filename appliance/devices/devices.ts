import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Db, Device } from '../domain/model.js';
import { normalizeMac } from '../entitlements/entitlement.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';

export interface BindInput {
  ownerKey: string;
  /** Any notation; null when the network did not tell us. */
  mac: string | null;
  /** From the guest's signed device cookie, when it carried one. */
  deviceId: string | null;
  label?: string;
}

/**
 * Remembers the device a guest is using (call inside `store.update`).
 * Phones randomise their MAC per network, so the signed cookie wins over the
 * MAC: a known device that arrives with a new MAC is re-bound, not added.
 */
export function bindDeviceIn(db: Db, now: number, input: BindInput, knownByMac?: Device | null): Device {
  const mac = input.mac === null ? null : normalizeMac(input.mac);
  if (input.mac !== null && mac === null)
    throw new TurnpikeError('TP_ERR_VALIDATION', `mac: ${input.mac} is not a MAC address`);
  const byCookie = input.deviceId ? db.devices[input.deviceId] : undefined;
  // A caller on a per-packet path passes the owner's device with this MAC, found through an index.
  const byMac =
    knownByMac !== undefined
      ? (knownByMac ?? undefined)
      : mac
        ? Object.values(db.devices).find((d) => d.ownerKey === input.ownerKey && d.mac === mac)
        : undefined;
  const known = byCookie && byCookie.ownerKey === input.ownerKey ? byCookie : byMac;
  if (known) {
    if (byMac && byMac.id !== known.id) delete db.devices[byMac.id];
    const next: Device = { ...known, mac: mac ?? known.mac, lastSeenAt: now, label: input.label ?? known.label };
    db.devices[known.id] = next;
    return next;
  }
  const device: Device = {
    id: randomUUID(),
    ownerKey: input.ownerKey,
    mac: mac ?? '',
    label: input.label ?? '',
    firstSeenAt: now,
    lastSeenAt: now,
  };
  db.devices[device.id] = device;
  return device;
}

export async function bindDevice(store: Store, clock: Clock, input: BindInput): Promise<Device> {
  return store.update((db) => bindDeviceIn(db, clock.now(), input));
}

export interface DeviceView extends Device {
  /** A session is running for this device right now. */
  online: boolean;
}

export function devicesOf(db: Readonly<Db>, ownerKey: string): DeviceView[] {
  const liveMacs = new Set(
    Object.values(db.sessions)
      .filter((s) => s.ownerKey === ownerKey)
      .map((s) => s.mac),
  );
  return Object.values(db.devices)
    .filter((d) => d.ownerKey === ownerKey)
    .sort((a, b) => b.lastSeenAt - a.lastSeenAt)
    .map((d) => ({ ...d, online: d.mac !== '' && liveMacs.has(d.mac) }));
}

/** The device behind a cookie, if the cookie names one that still exists. */
export function deviceById(db: Readonly<Db>, deviceId: string | null): Device | null {
  return deviceId ? (db.devices[deviceId] ?? null) : null;
}

export async function forgetDevice(store: Store, ownerKey: string, deviceId: string): Promise<Device> {
  return store.update((db) => {
    const device = db.devices[deviceId];
    if (!device || device.ownerKey !== ownerKey) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'no such device');
    delete db.devices[deviceId];
    return device;
  });
}

/**
 * The device limit counts sessions running now, not MACs ever seen; the
 * device asking (same MAC or same address) does not count against itself.
 */
export function assertDeviceAllowance(
  db: Readonly<Db>,
  input: { ownerKey: string; maxDevices: number; mac: string | null; ip: string | null },
): void {
  const mac = input.mac ? normalizeMac(input.mac) : null;
  const others = Object.values(db.sessions).filter(
    (s) => s.ownerKey === input.ownerKey && !(mac && s.mac === mac) && !(input.ip && s.ip === input.ip),
  );
  if (others.length >= input.maxDevices) {
    throw new TurnpikeError('TP_ERR_DEVICE_LIMIT', undefined, {
      maxDevices: input.maxDevices,
      connected: others.length,
    });
  }
}
