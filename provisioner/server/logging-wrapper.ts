import { status } from '@grpc/grpc-js';
import type { Logger } from '../../shared/logger.js';
import { statusOf } from './status.js';
import type { Wrapper } from './unary.js';

function msSince(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/**
 * One line per call; an INTERNAL is logged with its error, the only place its
 * details go. The success line is debug: at the usual levels it is not built.
 */
export function loggingWrapper(logger: Logger): Wrapper {
  return (next) => (req, ctx) => {
    const started = performance.now();
    return next(req, ctx).then(
      (res) => {
        if (logger.isLevelEnabled('debug'))
          logger.debug({ method: ctx.method, ms: msSince(started), code: 'OK' }, 'rpc');
        return res;
      },
      (err: unknown) => {
        const code = statusOf(err);
        const line = { method: ctx.method, ms: msSince(started), code: status[code] };
        if (code === status.INTERNAL) logger.error({ ...line, err }, 'rpc failed');
        else logger.info({ ...line, reason: (err as Error).message }, 'rpc refused');
        throw err;
      },
    );
  };
}
