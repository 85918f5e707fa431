import type { EnforcementOutcome } from '../../appliance/sessions/enforcer.js';
import type { StaffEnforcer } from '../api/sessions.js';

export type RecordingEnforcer = StaffEnforcer & { kicks: string[]; refreshes: string[] };

/** Stands in for the session enforcer: records what the staff API asked of it; the NAS always acknowledges. */
export function recordingEnforcer(): RecordingEnforcer {
  const kicks: string[] = [];
  const refreshes: string[] = [];
  return {
    kicks,
    refreshes,
    async kick(sessionId): Promise<EnforcementOutcome> {
      kicks.push(sessionId);
      return { sessionId, kind: 'disconnect', result: { outcome: 'ack', attempts: 1 } };
    },
    async refreshLimits(subscriptionId): Promise<EnforcementOutcome[]> {
      refreshes.push(subscriptionId);
      return [{ sessionId: 'live-1', kind: 'coa', result: { outcome: 'ack', attempts: 1 } }];
    },
  };
}
