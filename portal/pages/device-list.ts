import { devicesOf } from '../../appliance/devices/devices.js';
import type { IndexSource } from '../../appliance/sessions/collection-index.js';
import type { GuestContext } from './guest-context.js';

export interface DeviceListItem {
  id: string;
  /** The guest's own name for it and its MAC, or a short id when it has neither. */
  label: string;
  online: boolean;
  /** The device this page is being shown on. */
  current: boolean;
}

/** The signed-in guest's devices as the status and account pages list them. */
export function deviceListOf(source: IndexSource, context: GuestContext): DeviceListItem[] {
  if (!context.ownerKey) return [];
  return devicesOf(source, context.ownerKey).map((device) => ({
    id: device.id,
    label:
      [device.label, device.mac ? `${context.t.mac} ${device.mac}` : ''].filter(Boolean).join(' · ') ||
      device.id.slice(0, 8),
    online: device.online,
    current: device.id === context.deviceId,
  }));
}
