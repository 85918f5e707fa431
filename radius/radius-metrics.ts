import { Counter, Histogram, type Registry } from 'prom-client';
import type { RadiusStats } from './server.js';

export type RadiusRequestType = 'access' | 'accounting' | 'status';
export type RadiusOutcome = 'accept' | 'reject' | 'acknowledged' | 'error';

/**
 * RADIUS in Prometheus. Labels are bounded by configuration or code, never by
 * guests: request type, reply code, NAS name (the operator's NAS table),
 * outcome, reject reason (the TP_ERR_* table), drop cause (a fixed list).
 * No user, MAC, IP or session id ever becomes a label.
 */
export interface RadiusMetrics {
  /** One answered (or failed) request, with the time from datagram to reply built. */
  request(type: RadiusRequestType, nas: string, code: string, outcome: RadiusOutcome, seconds: number): void;
  reject(reason: string): void;
  /** The accounting write the Accounting-Response waited for. */
  accountingCommitted(seconds: number): void;
  /** One Disconnect-Request or CoA-Request exchange, by its final answer. */
  dynamicAuthorization(kind: 'disconnect' | 'coa', nas: string, outcome: 'ack' | 'nak' | 'timeout' | 'error'): void;
  /** Accounting showed a session going on after the NAS acked its disconnect. */
  acksButKeepsForwarding(nas: string): void;
  /** The server's counters, read at scrape time (drops, duplicates, capped sessions): nothing per packet. */
  attach(stats: RadiusStats): void;
}

/** Drop reasons as the server names them → the causes an operator alerts on. */
export function dropCauseOf(reason: string): string {
  if (reason === 'unknown-client') return 'unknown-source';
  if (reason === 'bad-message-authenticator' || reason === 'bad-request-authenticator') return 'bad-authenticator';
  if (reason === 'missing-message-authenticator' || reason === 'proxy-state-without-message-authenticator') {
    return 'missing-message-authenticator';
  }
  if (reason.startsWith('unexpected-code-')) return 'unexpected-code';
  return 'malformed';
}

export function createRadiusMetrics(registry: Registry): RadiusMetrics {
  const attached: RadiusStats[] = [];
  const requests = new Counter({
    name: 'turnpike_radius_requests_total',
    help: 'RADIUS requests answered, by type, reply code, NAS and outcome',
    labelNames: ['type', 'code', 'nas', 'outcome'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'turnpike_radius_request_duration_seconds',
    help: 'Time from datagram to reply, by request type (rejects exclude the deliberate reject delay)',
    labelNames: ['type'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const rejects = new Counter({
    name: 'turnpike_radius_rejects_total',
    help: 'Access-Rejects by reason (TP_ERR_* code)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const commits = new Histogram({
    name: 'turnpike_radius_accounting_commit_duration_seconds',
    help: 'Accounting-Request to durable record (journal fsync) — what the Accounting-Response waits for',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const dynamicAuthorization = new Counter({
    name: 'turnpike_radius_dynamic_authorization_total',
    help: 'Disconnect-Request and CoA-Request exchanges with a NAS, by kind, NAS and outcome (ack, nak, timeout, error)',
    labelNames: ['kind', 'nas', 'outcome'],
    registers: [registry],
  });
  const ignoredDisconnects = new Counter({
    name: 'turnpike_radius_acks_but_keeps_forwarding_total',
    help: 'Disconnect-ACKs after which the NAS kept sending accounting for the session (the disconnect is retried), by NAS',
    labelNames: ['nas'],
    registers: [registry],
  });
  new Counter({
    name: 'turnpike_radius_dropped_total',
    help: 'RADIUS packets dropped unanswered, by cause',
    labelNames: ['cause'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of attached) {
        for (const [reason, count] of Object.entries(stats.dropped)) this.inc({ cause: dropCauseOf(reason) }, count);
        if (stats.duplicates > 0) this.inc({ cause: 'duplicate' }, stats.duplicates);
      }
    },
  });
  new Counter({
    name: 'turnpike_radius_sessions_capped_total',
    help: 'Accounting Starts a live-session cap closed or refused, by cap (device-limit, nas-limit)',
    labelNames: ['cap'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of attached) {
        for (const [cap, count] of Object.entries(stats.sessionsCapped)) this.inc({ cap }, count);
      }
    },
  });
  // Labelled children cached per combination: the per-packet cost is two map lookups, not label hashing.
  const requestChildren = new Map<string, Map<string, { inc(): void }>>();
  const secondsChildren = new Map<string, { observe(value: number): void }>();
  const requestChild = (type: string, nas: string, code: string, outcome: string): { inc(): void } => {
    let byNas = requestChildren.get(nas);
    if (!byNas) requestChildren.set(nas, (byNas = new Map()));
    const key = `${type} ${code} ${outcome}`;
    let child = byNas.get(key);
    if (!child) byNas.set(key, (child = requests.labels({ type, code, nas, outcome })));
    return child;
  };
  const secondsChild = (type: string): { observe(value: number): void } => {
    let child = secondsChildren.get(type);
    if (!child) secondsChildren.set(type, (child = seconds.labels({ type })));
    return child;
  };
  return {
    request(type, nas, code, outcome, s) {
      requestChild(type, nas, code, outcome).inc();
      secondsChild(type).observe(s);
    },
    reject(reason) {
      rejects.inc({ reason });
    },
    accountingCommitted(s) {
      commits.observe(s);
    },
    dynamicAuthorization(kind, nas, outcome) {
      dynamicAuthorization.inc({ kind, nas, outcome });
    },
    acksButKeepsForwarding(nas) {
      ignoredDisconnects.inc({ nas });
    },
    attach(stats) {
      attached.push(stats);
    },
  };
}
