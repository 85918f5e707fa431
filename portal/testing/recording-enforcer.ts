import type { Actor } from '../../appliance/accounts/audit.js';
import {
  SessionEnforcer,
  type DynamicAuthorizationPort,
  type EnforcementOutcome,
} from '../../appliance/sessions/enforcer.js';
import type { Store } from '../../appliance/store/store.js';
import type { Clock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import type { StaffEnforcer } from '../api/sessions.js';

export type RecordingEnforcer = StaffEnforcer & {
  kicks: string[];
  refreshes: string[];
  /** Binds the kick to the harness's store; a harness that makes the store calls it. */
  attach(core: { store: Store; clock: Clock }): void;
};

/** The NAS stand-in: every Disconnect and CoA is acknowledged at the first attempt. */
const acknowledgingNas: DynamicAuthorizationPort = {
  disconnect: async () => ({ outcome: 'ack', attempts: 1 }),
  changeAuthorization: async () => ({ outcome: 'ack', attempts: 1 }),
};

/**
 * The staff API's enforcer with a NAS that always acknowledges: a kick runs through the real
 * `SessionEnforcer` (so it writes its audit entry and coa line), and both calls are recorded.
 */
export function recordingEnforcer(core?: { store: Store; clock: Clock }): RecordingEnforcer {
  const kicks: string[] = [];
  const refreshes: string[] = [];
  let real: SessionEnforcer | null = null;
  const attach = (bound: { store: Store; clock: Clock }): void => {
    real ??= new SessionEnforcer({ ...bound, port: acknowledgingNas, logger: silentLogger });
  };
  if (core) attach(core);
  return {
    kicks,
    refreshes,
    attach,
    async kick(sessionId: string, actor?: Actor): Promise<EnforcementOutcome> {
      kicks.push(sessionId);
      if (!real) throw new Error('recordingEnforcer: attach it to a store before kicking');
      return real.kick(sessionId, actor);
    },
    async refreshLimits(subscriptionId): Promise<EnforcementOutcome[]> {
      refreshes.push(subscriptionId);
      return [{ sessionId: 'live-1', kind: 'coa', result: { outcome: 'ack', attempts: 1 } }];
    },
  };
}
