import { SpanStatusCode } from '@opentelemetry/api';
import type { Db } from '../domain/model.js';
import type { HistoryWriter, Store } from '../store/store.js';
import { tracer } from '../../shared/telemetry/tracing.js';

/**
 * Gives every `store.update` a span (`store.update`) in the trace of whatever
 * asked for it: the mutation, the group commit it joins and the wait until it
 * is on disk. A thin wrapper over the store instance, applied once in `main`
 * while tracing is on, because the store layer itself has no span hook.
 */
export function traceStoreUpdates(store: Store): void {
  const update = store.update.bind(store);
  store.update = <T>(mutate: (db: Db, histories: HistoryWriter) => T): Promise<T> =>
    tracer().startActiveSpan('store.update', async (span) => {
      try {
        return await update(mutate);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
        throw err;
      } finally {
        span.end();
      }
    });
}
