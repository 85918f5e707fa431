/**
 * What the RADIUS front door notices about each NAS between two flushes to the store: when it last
 * sent a packet that passed authentication, the gaps between a session's accounting updates, and
 * whether its Access-Requests carry Message-Authenticator. Kept in memory so a packet costs a map
 * lookup and a few number writes, never a store write; a scheduled job (`flushNasTrust`) folds it
 * into the shared per-NAS trust rows on every appliance.
 */

/** Gap samples kept per NAS between flushes (a ring: the newest replace the oldest). */
export const GAP_SAMPLES = 64;

export interface NasObservation {
  lastSeenAt: number;
  gapsSeconds: number[];
  /** Samples taken in all (the ring's next slot is `gapCount % GAP_SAMPLES`). */
  gapCount: number;
  configuredInterimSeconds: number | null;
  signed: number;
  unsigned: number;
  lastSigned: boolean | null;
  lastAccessAt: number | null;
}

export class NasObservations {
  #pending = new Map<string, NasObservation>();

  #of(nasId: string, now: number): NasObservation {
    let entry = this.#pending.get(nasId);
    if (!entry) {
      entry = {
        lastSeenAt: now,
        gapsSeconds: [],
        gapCount: 0,
        configuredInterimSeconds: null,
        signed: 0,
        unsigned: 0,
        lastSigned: null,
        lastAccessAt: null,
      };
      this.#pending.set(nasId, entry);
    }
    return entry;
  }

  /** A packet from the NAS passed authentication. */
  seen(nasId: string, now: number): void {
    this.#of(nasId, now).lastSeenAt = now;
  }

  /** An Access-Request, with or without Message-Authenticator. */
  accessRequest(nasId: string, signed: boolean, now: number): void {
    const entry = this.#of(nasId, now);
    if (signed) entry.signed += 1;
    else entry.unsigned += 1;
    entry.lastSigned = signed;
    entry.lastAccessAt = now;
  }

  /** The time since a session's previous accounting update, against the interval the NAS was told. */
  interimGap(nasId: string, seconds: number, configuredSeconds: number, now: number): void {
    const entry = this.#of(nasId, now);
    entry.gapsSeconds[entry.gapCount % GAP_SAMPLES] = seconds;
    entry.gapCount += 1;
    entry.configuredInterimSeconds = configuredSeconds;
  }

  /** Takes everything noticed since the last call; `putBack` returns it when the flush failed. */
  take(): Map<string, NasObservation> {
    const taken = this.#pending;
    this.#pending = new Map();
    return taken;
  }

  /** Merges observations a failed flush could not write back under the ones noticed since. */
  putBack(taken: Map<string, NasObservation>): void {
    for (const [nasId, old] of taken) {
      const now = this.#pending.get(nasId);
      if (!now) {
        this.#pending.set(nasId, old);
        continue;
      }
      now.lastSeenAt = Math.max(now.lastSeenAt, old.lastSeenAt);
      now.signed += old.signed;
      now.unsigned += old.unsigned;
      if (now.lastAccessAt === null) {
        now.lastSigned = old.lastSigned;
        now.lastAccessAt = old.lastAccessAt;
      }
      now.configuredInterimSeconds ??= old.configuredInterimSeconds;
      for (const gap of old.gapsSeconds) {
        if (now.gapsSeconds.length >= GAP_SAMPLES) break;
        now.gapsSeconds.push(gap);
      }
      now.gapCount = now.gapsSeconds.length;
    }
  }
}
