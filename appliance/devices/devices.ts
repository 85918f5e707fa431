import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Db, Device } from '../domain/model.js';
import { normalizeMac } from '../entitlements/entitlement.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { IndexSource } from '../sessions/collection-index.js';
import { sessionIndexesOf } from '../sessions/session-indexes.js';
import { peekRow } from '../store/staged-mutation.js';
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
 * The owner's device with this MAC, through the devices-by-MAC index: a crowd arriving must not
 * walk every device for each guest. `db` is what is read (a mutation's draft, or current state).
 */
export function ownerDeviceWithMac(
  source: IndexSource,
  db: Readonly<Db>,
  ownerKey: string,
  mac: string | null,
): Device | null {
  if (mac === null) return null;
  for (const id of sessionIndexesOf(source).devicesByMac.lookup(db, mac)) {
    const device = peekRow(db.devices, id)!;
    if (device.ownerKey === ownerKey) return device;
  }
  return null;
}

/**
 * Remembers the device a guest is using (call inside `store.update`, with the store as `source`).
 * Phones randomise their MAC per network, so the signed cookie wins over the
 * MAC: a known device that arrives with a new MAC is re-bound, not added.
 */
export function bindDeviceIn(source: IndexSource, db: Db, now: number, input: BindInput): Device {
  const mac = input.mac === null ? null : normalizeMac(input.mac);
  if (input.mac !== null && mac === null)
    throw new TurnpikeError('TP_ERR_VALIDATION', `mac: ${input.mac} is not a MAC address`);
  // Rows read whole and written back as copies: peeked, not drafted (a draft is a proxy per row reached).
  const byCookie = input.deviceId ? peekRow(db.devices, input.deviceId) : undefined;
  const byMac = ownerDeviceWithMac(source, db, input.ownerKey, mac) ?? undefined;
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
  return store.update((db) => bindDeviceIn(store, db, clock.now(), input));
}

export interface DeviceView extends Device {
  /** A session is running for this device right now. */
  online: boolean;
}

/** The owner's devices, most recently seen first, each marked online when a live session has its MAC. */
export function devicesOf(source: IndexSource, ownerKey: string): DeviceView[] {
  const db = source.db;
  const indexes = sessionIndexesOf(source);
  const liveMacs = new Set(indexes.sessionsByOwner.lookup(db, ownerKey).map((id) => db.sessions[id]!.mac));
  return indexes.devicesByOwner
    .lookup(db, ownerKey)
    .map((id) => db.devices[id]!)
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
