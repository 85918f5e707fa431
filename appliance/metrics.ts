import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from './store/store.js';

/**
 * The one Prometheus registry. Each door adds its own instruments here; the
 * portal serves the text format at /metrics.
 */
export interface Metrics {
  registry: Registry;
  httpRequestSeconds: Histogram<'method' | 'route' | 'status'>;
  loginOutcomes: Counter<'outcome'>;
  /** One account failing sign-in from many places: an alert, never a lock. */
  loginAlerts: Counter;
  storeWriteSeconds: Histogram<'file'>;
  storeBatchSize: Histogram<'file'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'turnpike_' });
  return {
    registry,
    httpRequestSeconds: new Histogram({
      name: 'turnpike_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    loginOutcomes: new Counter({
      name: 'turnpike_login_outcomes_total',
      help: 'Login attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    loginAlerts: new Counter({
      name: 'turnpike_login_alerts_total',
      help: 'Accounts that reached auth.lockout.alertFailures failed sign-ins within the back-off window',
      registers: [registry],
    }),
    storeWriteSeconds: new Histogram({
      name: 'turnpike_store_write_duration_seconds',
      help: 'Durable store write (group commit) latency, by file: db.json or a journal',
      labelNames: ['file'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    storeBatchSize: new Histogram({
      name: 'turnpike_store_write_batch_size',
      help: 'Acknowledged writes carried by one disk write, by file: wal (change records) or checkpoint (db.json)',
      labelNames: ['file'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers: [registry],
    }),
  };
}

export function instrumentStore(store: Store, metrics: Metrics): void {
  store.onWrite(({ batchSize, ms, file }) => {
    metrics.storeWriteSeconds.observe({ file }, ms / 1000);
    metrics.storeBatchSize.observe({ file }, batchSize);
  });
}
