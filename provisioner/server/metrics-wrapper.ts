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
  // Each method's series, looked up once: a call then costs no label object and no timer closure.
  const series = new Map<string, { observe: (s: number) => void; ok: () => void }>();
  const seriesOf = (method: string): { observe: (s: number) => void; ok: () => void } => {
    let s = series.get(method);
    if (!s) {
      const histogram = seconds.labels(method);
      const ok = calls.labels(method, 'OK');
      s = { observe: (v) => histogram.observe(v), ok: () => ok.inc() };
      series.set(method, s);
    }
    return s;
  };
  return (next) => (req, ctx) => {
    const s = seriesOf(ctx.method);
    const started = performance.now();
    return next(req, ctx).then(
      (res) => {
        s.observe((performance.now() - started) / 1000);
        s.ok();
        return res;
      },
      (err: unknown) => {
        s.observe((performance.now() - started) / 1000);
        calls.inc({ method: ctx.method, code: status[statusOf(err)] });
        throw err;
      },
    );
  };
}
