import type { Clock } from '../../shared/clock.js';
import type { Db, NasTrust } from '../domain/model.js';
import type { Store } from '../store/store.js';
import type { NasObservations } from './nas-observations.js';

/** A NAS-trust row with nothing observed yet. */
export function emptyNasTrust(nasId: string, now: number): NasTrust {
  return {
    nasId,
    lastSeenAt: null,
    interimGapsSeconds: [],
    configuredInterimSeconds: null,
    missingStops: 0,
    accessRequestsSigned: 0,
    accessRequestsUnsigned: 0,
    lastAccessRequestSigned: null,
    lastAccessRequestAt: null,
    acksButKeepsForwarding: 0,
    updatedAt: now,
  };
}

/** The NAS's trust row in `db`, made on first use (call inside `store.update`). */
export function nasTrustIn(db: Db, nasId: string, now: number): NasTrust {
  db.nasTrust ??= {};
  let row = db.nasTrust[nasId];
  if (!row) db.nasTrust[nasId] = row = emptyNasTrust(nasId, now);
  return row;
}

/** Gap samples kept per NAS in the store: enough for a steady median, bounded whatever the traffic. */
export const STORED_GAP_SAMPLES = 64;

/**
 * Folds what this appliance noticed into the shared per-NAS trust rows, in one write for every NAS.
 * Each appliance adds its own counts and samples; a conflict on PostgreSQL re-runs the merge on the
 * other appliance's rows, so nothing is counted twice or lost. A failed write puts the
 * observations back for the next run.
 */
export async function flushNasTrust(store: Store, clock: Clock, observations: NasObservations): Promise<number> {
  const taken = observations.take();
  if (taken.size === 0) return 0;
  try {
    return await store.update((db) => {
      const now = clock.now();
      let written = 0;
      for (const [nasId, seen] of taken) {
        if (!db.nasClients[nasId]) continue;
        const row = nasTrustIn(db, nasId, now);
        row.lastSeenAt = Math.max(row.lastSeenAt ?? 0, seen.lastSeenAt);
        row.accessRequestsSigned += seen.signed;
        row.accessRequestsUnsigned += seen.unsigned;
        if (seen.lastAccessAt !== null && seen.lastAccessAt >= (row.lastAccessRequestAt ?? 0)) {
          row.lastAccessRequestSigned = seen.lastSigned;
          row.lastAccessRequestAt = seen.lastAccessAt;
        }
        if (seen.configuredInterimSeconds !== null) row.configuredInterimSeconds = seen.configuredInterimSeconds;
        if (seen.gapsSeconds.length > 0)
          row.interimGapsSeconds = [...row.interimGapsSeconds, ...seen.gapsSeconds].slice(-STORED_GAP_SAMPLES);
        row.updatedAt = now;
        written += 1;
      }
      return written;
    });
  } catch (err) {
    observations.putBack(taken);
    throw err;
  }
}

/** A NAS's trust figures as the API, the console and the metrics show them. */
export interface NasTrustFigures {
  lastSeenAt: number | null;
  interim: {
    /** Median of the recent gaps between a session's accounting updates; null before two updates. */
    medianSeconds: number | null;
    configuredSeconds: number | null;
    samples: number;
  };
  /** Sessions closed by the stale sweep because no Stop came. */
  missingStops: number;
  messageAuthenticator: {
    /** Whether the latest Access-Request carried Message-Authenticator; null before any. */
    sendsOnAccessRequest: boolean | null;
    signedAccessRequests: number;
    unsignedAccessRequests: number;
  };
  acksButKeepsForwarding: number;
}

export function medianOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function trustFiguresOf(row: NasTrust): NasTrustFigures {
  return {
    lastSeenAt: row.lastSeenAt,
    interim: {
      medianSeconds: medianOf(row.interimGapsSeconds),
      configuredSeconds: row.configuredInterimSeconds,
      samples: row.interimGapsSeconds.length,
    },
    missingStops: row.missingStops,
    messageAuthenticator: {
      sendsOnAccessRequest: row.lastAccessRequestSigned,
      signedAccessRequests: row.accessRequestsSigned,
      unsignedAccessRequests: row.accessRequestsUnsigned,
    },
    acksButKeepsForwarding: row.acksButKeepsForwarding,
  };
}

/** The figures of one NAS as the store has them (all empty for a NAS never heard from). */
export function nasTrustFigures(db: Readonly<Db>, nasId: string): NasTrustFigures {
  return trustFiguresOf(db.nasTrust?.[nasId] ?? emptyNasTrust(nasId, 0));
}

/** The JSON Schema of `NasTrustFigures`, for the API's OpenAPI document. */
export const nasTrustSchema = {
  type: 'object',
  required: ['lastSeenAt', 'interim', 'missingStops', 'messageAuthenticator', 'acksButKeepsForwarding'],
  additionalProperties: false,
  properties: {
    lastSeenAt: { type: ['integer', 'null'], description: 'last authenticated packet from the NAS (ms since epoch)' },
    interim: {
      type: 'object',
      required: ['medianSeconds', 'configuredSeconds', 'samples'],
      additionalProperties: false,
      properties: {
        medianSeconds: { type: ['number', 'null'], description: 'median gap between accounting updates seen' },
        configuredSeconds: { type: ['integer', 'null'], description: 'Acct-Interim-Interval the NAS was told' },
        samples: { type: 'integer' },
      },
    },
    missingStops: { type: 'integer', description: 'sessions the stale sweep closed because no Stop came' },
    messageAuthenticator: {
      type: 'object',
      required: ['sendsOnAccessRequest', 'signedAccessRequests', 'unsignedAccessRequests'],
      additionalProperties: false,
      properties: {
        sendsOnAccessRequest: { type: ['boolean', 'null'], description: 'the latest Access-Request carried one' },
        signedAccessRequests: { type: 'integer' },
        unsignedAccessRequests: { type: 'integer' },
      },
    },
    acksButKeepsForwarding: {
      type: 'integer',
      description: 'Disconnect-ACKs after which accounting showed the session going on',
    },
  },
} as const;
