import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { closeSessionIn, type ClosedSession } from './accounting.js';
import { decideEnforcement, type EnforcementAction } from './enforcement-decision.js';
import type { SessionEnforcer } from './enforcer.js';

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
  let appends: Array<Promise<void>> = [];
  const result = await store.update((db) => {
    const closed: ClosedSession[] = [];
    const actions: EnforcementAction[] = [];
    for (const session of Object.values(db.sessions)) {
      if (session.mode !== 'controller') continue;
      if (now - session.lastUpdateAt > staleFactor * session.interimIntervalSeconds * 1000) {
        closed.push(closeSessionIn(db, session, now, 'stale', null));
        continue;
      }
      const action = decideEnforcement(db, session, now);
      if (action) actions.push(action);
    }
    appends = closed.map((record) => store.history('closed-sessions').append({ ...record }));
    return { closed, actions };
  });
  await Promise.all(appends);
  return result;
}

export interface SessionSweeper {
  sweep(): Promise<SweepResult>;
  stop(): void;
}

/** Runs `sweepSessions` every `intervalMs` and hands its actions to the enforcer. */
export function startSessionSweeper(options: {
  store: Store;
  clock: Clock;
  enforcer: SessionEnforcer;
  logger: Logger;
  staleFactor: number;
  intervalMs?: number;
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
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => options.logger.error({ err }, 'session sweep failed'));
  }, options.intervalMs ?? 30_000);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
