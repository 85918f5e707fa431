import { status, type ServerWritableStream } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
} from '../../proto/gen/grpc/health/v1/health.js';

/**
 * The standard grpc.health.v1.Health. It answers under mTLS without a call
 * token so that probes need no signing key; it reveals only serving status.
 */
export class HealthState {
  readonly #statuses = new Map<string, Serving>();
  readonly #watchers = new Set<{
    service: string;
    call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;
  }>();

  constructor(services: string[]) {
    for (const s of ['', ...services]) this.#statuses.set(s, Serving.SERVING);
  }

  set(service: string, serving: Serving): void {
    this.#statuses.set(service, serving);
    for (const w of this.#watchers) if (w.service === service) w.call.write({ status: serving });
  }

  /** Every service NOT_SERVING, announced to watchers before the server closes. */
  shutdown(): void {
    for (const s of this.#statuses.keys()) this.set(s, Serving.NOT_SERVING);
    for (const w of this.#watchers) w.call.end();
    this.#watchers.clear();
  }

  server(): HealthServer {
    return {
      check: (call, callback) => {
        const serving = this.#statuses.get(call.request.service);
        if (serving === undefined) callback({ code: status.NOT_FOUND, details: 'unknown service' });
        else callback(null, { status: serving });
      },
      watch: (call) => {
        const service = call.request.service;
        const watcher = { service, call };
        this.#watchers.add(watcher);
        call.write({ status: this.#statuses.get(service) ?? Serving.SERVICE_UNKNOWN });
        call.on('cancelled', () => this.#watchers.delete(watcher));
      },
    };
  }
}
