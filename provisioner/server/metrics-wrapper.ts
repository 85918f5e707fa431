import { status } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { statusOf } from './status.js';
import type { Wrapper } from './unary.js';

export function metricsWrapper(registry: Registry): Wrapper {
  const calls = new Counter({
    name: 'turnpike_provisioner_rpc_total',
    help: 'Provisioner RPCs by method and status code',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'turnpike_provisioner_rpc_duration_seconds',
    help: 'Provisioner RPC latency by method',
    labelNames: ['method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  return (next) => async (req, ctx) => {
    const stop = seconds.startTimer({ method: ctx.method });
    try {
      const res = await next(req, ctx);
      calls.inc({ method: ctx.method, code: 'OK' });
      return res;
    } catch (err) {
      calls.inc({ method: ctx.method, code: status[statusOf(err)] });
      throw err;
    } finally {
      stop();
    }
  };
}
