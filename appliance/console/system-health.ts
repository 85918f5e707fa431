import { resolve, sep } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';

/** The box itself, as the dashboard shows it. */
export interface SystemHealth {
  takenAt: number;
  cpuLoadPercent: number | null;
  memory: { totalBytes: number; availableBytes: number } | null;
  /** The filesystem that holds the data directory. */
  dataDisk: { mount: string; sizeBytes: number; usedBytes: number } | null;
  interfaces: Array<{ name: string; ip4: string; ip6: string; mac: string; up: boolean }>;
  uptimeSeconds: number;
}

const FRESH_MS = 10_000;

function mountHolding(path: string, mounts: Array<{ mount: string }>): string | null {
  const target = resolve(path);
  let best: string | null = null;
  for (const { mount } of mounts) {
    const inside = target === mount || target.startsWith(mount.endsWith(sep) ? mount : `${mount}${sep}`);
    if (inside && (best === null || mount.length > best.length)) best = mount;
  }
  return best;
}

/**
 * Reads systeminformation at most every ten seconds. A dashboard load never waits for `df` or
 * `/proc` once a reading exists: a stale one is shown while the next is taken.
 */
export function createSystemHealth(options: { dataDir: string; clock: Clock; logger: Logger }) {
  let last: SystemHealth | null = null;
  let reading: Promise<SystemHealth> | null = null;

  async function measure(): Promise<SystemHealth> {
    // Imported at the first reading (a dashboard load), not at start: until then it would only hold memory.
    const { default: si } = await import('systeminformation');
    const [load, memory, disks, interfaces] = await Promise.all([
      si.currentLoad().catch(() => null),
      si.mem().catch(() => null),
      si.fsSize().catch(() => []),
      si.networkInterfaces().catch(() => []),
    ]);
    const mount = mountHolding(options.dataDir, disks);
    const disk = disks.find((candidate) => candidate.mount === mount);
    return {
      takenAt: options.clock.now(),
      cpuLoadPercent: load ? Math.round(load.currentLoad * 10) / 10 : null,
      memory: memory ? { totalBytes: memory.total, availableBytes: memory.available } : null,
      dataDisk: disk ? { mount: disk.mount, sizeBytes: disk.size, usedBytes: disk.used } : null,
      interfaces: (Array.isArray(interfaces) ? interfaces : [interfaces]).map((nic) => ({
        name: nic.iface,
        ip4: nic.ip4,
        ip6: nic.ip6,
        mac: nic.mac,
        up: nic.operstate === 'up' || nic.internal,
      })),
      uptimeSeconds: Math.round(si.time().uptime),
    };
  }

  function refresh(): Promise<SystemHealth> {
    reading ??= measure()
      .then((health) => {
        last = health;
        return health;
      })
      .catch((err: unknown) => {
        options.logger.warn({ err }, 'reading system health failed');
        throw err;
      })
      .finally(() => {
        reading = null;
      });
    return reading;
  }

  return {
    async current(): Promise<SystemHealth | null> {
      if (last && options.clock.now() - last.takenAt < FRESH_MS) return last;
      if (last) {
        refresh().catch(() => undefined);
        return last;
      }
      return refresh().catch(() => null);
    },
  };
}

export type SystemHealthReader = ReturnType<typeof createSystemHealth>;
