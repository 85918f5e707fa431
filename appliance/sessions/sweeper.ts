import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Scheduler } from '../scheduler.js';
import type { Db, Session } from '../domain/model.js';
import type { Store } from '../store/store.js';
import { closeSessionIn, type ClosedSession } from './accounting.js';
import { decideEnforcement, type EnforcementAction } from './enforcement-decision.js';
import type { SessionEnforcer } from './enforcer.js';
import { nasTrustIn } from '../nas/nas-trust.js';
import { retryIsDue, takeDueRetry } from './ignored-disconnect.js';

export interface SweepResult {
  closed: ClosedSession[];
  actions: EnforcementAction[];
}

/**
 * Closes sessions with no update for `staleFactor` × their interim interval (zombies whose Stop
 * never came) into the 'closed-sessions' history, and lists live sessions that must end now.
 */
export async function sweepSessions(store: Store, clock: Clock, staleFactor: number): Promise<SweepResult> {
  const now = clock.now();
  const isStale = (session: Session): boolean =>
    now - session.lastUpdateAt > staleFactor * session.interimIntervalSeconds * 1000;
  // A disconnect the NAS acked and ignored is retried on its own bounded schedule, not at every sweep.
  const mustAct = (db: Readonly<Db>, session: Session): boolean =>
    session.ignoredDisconnect ? retryIsDue(session, now) : decideEnforcement(db, session, now) !== null;
  // Most sweeps find nothing: look first, without drafting every live session, and write only
  // when there is something to close.
  const due = Object.values(store.db.sessions)
    .filter((session) => session.mode === 'controller')
    .filter((session) => isStale(session) || mustAct(store.db, session))
    .map((session) => session.id);
  if (due.length === 0) return { closed: [], actions: [] };
  return store.update((db, histories) => {
    const closed: ClosedSession[] = [];
    const actions: EnforcementAction[] = [];
    for (const id of due) {
      const session = db.sessions[id];
      if (!session) continue;
      if (isStale(session)) {
        closed.push(closeSessionIn(db, session, now, 'stale', null));
        // The NAS never sent this session's Stop: it counts against the NAS's trust figures.
        if (session.nasId && db.nasClients[session.nasId]) {
          const trust = nasTrustIn(db, session.nasId, now);
          trust.missingStops += 1;
          trust.updatedAt = now;
        }
        continue;
      }
      const action = session.ignoredDisconnect ? takeDueRetry(session, now) : decideEnforcement(db, session, now);
      if (action) actions.push(action);
    }
    for (const record of closed) histories.append('closed-sessions', record);
    return { closed, actions };
  });
}

export interface SessionSweeper {
  sweep(): Promise<SweepResult>;
  stop(): void;
}

/**
 * Runs `sweepSessions` every `intervalMs` and hands its actions to the enforcer. With a scheduler
 * the sweep is one of its jobs, so among appliances sharing a store only the job's leader sweeps
 * (and sends the Disconnect-Requests); without one it keeps its own timer.
 */
export function startSessionSweeper(options: {
  store: Store;
  clock: Clock;
  enforcer: SessionEnforcer;
  logger: Logger;
  staleFactor: number;
  intervalMs?: number;
  scheduler?: Pick<Scheduler, 'add'>;
}): SessionSweeper {
  let running: Promise<SweepResult> | null = null;
  const sweep = async (): Promise<SweepResult> => {
    running ??= sweepSessions(options.store, options.clock, options.staleFactor).finally(() => {
      running = null;
    });
    const result = await running;
    if (result.closed.length > 0) options.logger.info({ closed: result.closed.length }, 'closed stale sessions');
    void options.enforcer.apply(result.actions);
    return result;
  };
  const everyMs = options.intervalMs ?? 30_000;
  if (options.scheduler) {
    options.scheduler.add({ name: 'sweep sessions', everyMs, run: sweep });
    return { sweep, stop: () => undefined };
  }
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => options.logger.error({ err }, 'session sweep failed'));
  }, everyMs);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
