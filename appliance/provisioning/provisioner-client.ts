import type { KeyObject } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import { credentials, Metadata, status, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../proto/gen/grpc/health/v1/health.js';
import {
  ProvisionerClient as GeneratedClient,
  type AccountUsageRequest,
  type AccountUsageResponse,
  type AllowClientRequest,
  type EnsureAccountRequest,
  type GetStateResponse,
  type ListClientsResponse,
  type RevokeClientRequest,
  type SetWalledGardenRequest,
} from '../../proto/gen/turnpike/provisioner/v1/provisioner.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { TurnpikeError, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { PROVISIONER_TLS_NAME, type TlsMaterial } from '../pki/pki-store.js';
import { signCallToken } from './call-token.js';
import { traceInterceptor } from './trace-interceptor.js';
import { tracingOn } from '../../shared/telemetry/tracing.js';
import { requestIdOf } from '../../shared/telemetry/trace-context.js';

export const PROVISIONER_SERVICE = 'turnpike.provisioner.v1.Provisioner';

export interface ProvisionerClientOptions {
  /** `host:port` of the provisioner. */
  address: string;
  tls: TlsMaterial;
  /** The appliance's Ed25519 key for per-call tokens. */
  jwtKey: KeyObject;
  logger: Logger;
  clock?: Clock;
  /** Deadline of each call. */
  callTimeoutMs?: number;
  /** Health probe period while healthy. */
  healthIntervalMs?: number;
  /** Back-off between failed probes: doubles from `initialMs` up to `maxMs`, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Name checked against the server certificate. Every server certificate our
   * private CA issues carries `turnpike-provisioner`, so targets may be given
   * by IP without TLS name games; the CA is what binds identity.
   */
  serverName?: string;
}

const STATUS_TO_CODE: Partial<Record<status, ErrorCode>> = {
  [status.INVALID_ARGUMENT]: 'TP_ERR_VALIDATION',
  [status.PERMISSION_DENIED]: 'TP_ERR_FORBIDDEN',
  [status.NOT_FOUND]: 'TP_ERR_NOT_FOUND',
  [status.UNAUTHENTICATED]: 'TP_ERR_UNAUTHENTICATED',
  [status.UNAVAILABLE]: 'TP_ERR_UNAVAILABLE',
  [status.DEADLINE_EXCEEDED]: 'TP_ERR_UNAVAILABLE',
  [status.CANCELLED]: 'TP_ERR_UNAVAILABLE',
  [status.RESOURCE_EXHAUSTED]: 'TP_ERR_RATE_LIMITED',
};

function toTurnpikeError(err: ServiceError, method: string): TurnpikeError {
  const code = STATUS_TO_CODE[err.code as status] ?? 'TP_ERR_INTERNAL';
  return new TurnpikeError(code, `provisioner ${method}: ${err.details || err.message}`, { grpcCode: err.code });
}

type UnaryMethod<Req, Res> = (
  req: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, res: Res) => void,
) => unknown;

/**
 * The appliance's typed, promise-based handle on one provisioner. mTLS plus a
 * fresh call token on every RPC; grpc-js reconnects the channel with its own
 * back-off, and a health loop (grpc.health.v1) keeps `healthy` current so
 * callers and the router can tell a down gateway from a refusing one.
 */
export class ProvisionerClient {
  readonly address: string;
  readonly #o: ProvisionerClientOptions;
  readonly #client: GeneratedClient;
  readonly #health: HealthClient;
  readonly #clock: Clock;
  #healthy = false;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #closed = false;
  /** The current call token, and call metadata holding it that each call copies (copying skips re-validating it). */
  #token: { metadata: Metadata; until: number } | undefined;
  #lastOkAt: number | null = null;
  #lastError: { at: number; message: string } | null = null;

  constructor(o: ProvisionerClientOptions) {
    this.address = o.address;
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    const channel = credentials.createSsl(o.tls.ca, o.tls.key, o.tls.cert);
    const options = {
      'grpc.initial_reconnect_backoff_ms': o.backoff?.initialMs ?? 200,
      'grpc.max_reconnect_backoff_ms': o.backoff?.maxMs ?? 10_000,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.ssl_target_name_override': o.serverName ?? PROVISIONER_TLS_NAME,
      // Nothing reads channelz here; off, a call does not keep its counters and timestamps.
      'grpc.enable_channelz': 0,
    };
    // Health probes stay untraced: they are the client's own loop, not a guest's action. Calls take the
    // trace interceptor when they have something to carry (see #send).
    this.#client = new GeneratedClient(o.address, channel, options);
    this.#health = new HealthClient(o.address, channel, options);
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** When a call or health probe last succeeded (ms), for the console; null before the first. */
  get lastOkAt(): number | null {
    return this.#lastOkAt;
  }

  /** The newest failed call or probe and why; it stays after later successes, which `lastOkAt` shows. */
  get lastError(): { at: number; message: string } | null {
    return this.#lastError;
  }

  #heard(error: string | null): void {
    const at = this.#clock.now();
    if (error === null) this.#lastOkAt = at;
    else this.#lastError = { at, message: error };
  }

  /** Probes now, then keeps probing: every `healthIntervalMs` while up, with growing back-off while down. */
  start(): void {
    if (this.#timer || this.#closed) return;
    const loop = async (): Promise<void> => {
      const ok = await this.checkHealth();
      if (this.#closed) return;
      this.#failures = ok ? 0 : this.#failures + 1;
      const initial = this.#o.backoff?.initialMs ?? 200;
      const max = this.#o.backoff?.maxMs ?? 10_000;
      const delay = ok
        ? (this.#o.healthIntervalMs ?? 5_000)
        : Math.min(max, initial * 2 ** Math.min(this.#failures - 1, 20)) * (0.5 + Math.random() / 2);
      this.#timer = setTimeout(() => void loop(), delay);
      this.#timer.unref();
    };
    this.#timer = setTimeout(() => void loop(), 0);
    this.#timer.unref();
  }

  async checkHealth(): Promise<boolean> {
    const was = this.#healthy;
    const ok = await new Promise<boolean>((resolve) => {
      this.#health.check(
        { service: PROVISIONER_SERVICE },
        new Metadata(),
        {
          deadline: Date.now() + (this.#o.callTimeoutMs ?? 5_000),
          // With tracing off and no request behind the call there is no trace or request id to pass on.
          ...(tracingOn() || trace.getSpan(context.active()) || requestIdOf()
            ? { interceptors: [traceInterceptor] }
            : {}),
        },
        (err, res) => {
          const serving = !err && res.status === HealthCheckResponse_ServingStatus.SERVING;
          this.#heard(serving ? null : `health check: ${err ? err.details || err.message : 'not serving'}`);
          resolve(serving);
        },
      );
    });
    this.#healthy = ok;
    if (ok !== was) this.#o.logger.info({ address: this.address, healthy: ok }, 'provisioner health changed');
    return ok;
  }

  allowClient(req: AllowClientRequest): Promise<void> {
    return this.#call('AllowClient', this.#client.allowClient, req).then(() => undefined);
  }

  revokeClient(req: RevokeClientRequest): Promise<void> {
    return this.#call('RevokeClient', this.#client.revokeClient, req).then(() => undefined);
  }

  listClients(): Promise<ListClientsResponse> {
    return this.#call('ListClients', this.#client.listClients, {});
  }

  setWalledGarden(req: SetWalledGardenRequest): Promise<void> {
    return this.#call('SetWalledGarden', this.#client.setWalledGarden, req).then(() => undefined);
  }

  ensureAccount(req: EnsureAccountRequest): Promise<void> {
    return this.#call('EnsureAccount', this.#client.ensureAccount, req).then(() => undefined);
  }

  suspendAccount(login: string): Promise<void> {
    return this.#call('SuspendAccount', this.#client.suspendAccount, { login }).then(() => undefined);
  }

  deleteAccount(login: string): Promise<void> {
    return this.#call('DeleteAccount', this.#client.deleteAccount, { login }).then(() => undefined);
  }

  accountUsage(req: AccountUsageRequest): Promise<AccountUsageResponse> {
    return this.#call('AccountUsage', this.#client.accountUsage, req);
  }

  getState(): Promise<GetStateResponse> {
    return this.#call('GetState', this.#client.getState, {});
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#client.close();
    this.#health.close();
  }

  /**
   * Metadata for one call, with the call token. Tokens live 30 s and are reused
   * for 15 s, so signing costs nothing per call; a call waits (a promise) only
   * when a new one is signed.
   */
  #metadata(): Metadata | Promise<Metadata> {
    const now = this.#clock.now();
    if (this.#token && this.#token.until > now) return this.#token.metadata.clone();
    return signCallToken(this.#o.jwtKey, { now, lifetimeSeconds: 30 }).then((token) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      this.#token = { metadata, until: now + 15_000 };
      return metadata.clone();
    });
  }

  #call<Req, Res>(method: string, fn: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
    const metadata = this.#metadata();
    return metadata instanceof Metadata
      ? this.#send(method, fn, req, metadata)
      : metadata.then((m) => this.#send(method, fn, req, m));
  }

  #send<Req, Res>(method: string, fn: UnaryMethod<Req, Res>, req: Req, metadata: Metadata): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      fn.call(
        this.#client,
        req,
        metadata,
        {
          deadline: Date.now() + (this.#o.callTimeoutMs ?? 5_000),
          // With tracing off and no request behind the call there is no trace or request id to pass on.
          ...(tracingOn() || trace.getSpan(context.active()) || requestIdOf()
            ? { interceptors: [traceInterceptor] }
            : {}),
        },
        (err: ServiceError | null, res: Res) => {
          if (!err) {
            this.#heard(null);
            resolve(res);
            return;
          }
          const failure = toTurnpikeError(err, method);
          this.#heard(failure.message);
          reject(failure);
        },
      );
    });
  }
}
