import { status } from '@grpc/grpc-js';
import type { Logger } from '../../shared/logger.js';
import { statusOf } from './status.js';
import type { Wrapper } from './unary.js';

/** One line per call; an INTERNAL is logged with its error, the only place its details go. */
export function loggingWrapper(logger: Logger): Wrapper {
  return (next) => async (req, ctx) => {
    const started = performance.now();
    try {
      const res = await next(req, ctx);
      logger.debug({ method: ctx.method, ms: +(performance.now() - started).toFixed(2), code: 'OK' }, 'rpc');
      return res;
    } catch (err) {
      const code = statusOf(err);
      const line = { method: ctx.method, ms: +(performance.now() - started).toFixed(2), code: status[code] };
      if (code === status.INTERNAL) logger.error({ ...line, err }, 'rpc failed');
      else logger.info({ ...line, reason: (err as Error).message }, 'rpc refused');
      throw err;
    }
  };
}
