import { Counter, type Registry } from 'prom-client';
import { TalliedCounter, TalliedHistogram, type CounterTally, type HistogramTally } from './tallied-metrics.js';
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
  const requests = new TalliedCounter({
    name: 'turnpike_radius_requests_total',
    help: 'RADIUS requests answered, by type, reply code, NAS and outcome',
    labelNames: ['type', 'code', 'nas', 'outcome'],
    registry,
  });
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
  const seconds = new TalliedHistogram({
    name: 'turnpike_radius_request_duration_seconds',
    help: 'Time from datagram to reply, by request type (rejects exclude the deliberate reject delay)',
    buckets,
    registry,
  });
  const rejects = new TalliedCounter({
    name: 'turnpike_radius_rejects_total',
    help: 'Access-Rejects by reason (TP_ERR_* code)',
    labelNames: ['reason'],
    registry,
  });
  const commits = new TalliedHistogram({
    name: 'turnpike_radius_accounting_commit_duration_seconds',
    help: 'Accounting-Request to durable record (journal fsync) — what the Accounting-Response waits for',
    buckets,
    registry,
  }).tally('');
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
  // Tallies per combination: a packet pays two map lookups and an addition, no label hashing.
  const requestTallies = new Map<string, Map<string, CounterTally>>();
  const requestTally = (type: string, nas: string, code: string, outcome: string): CounterTally => {
    let byNas = requestTallies.get(nas);
    if (!byNas) requestTallies.set(nas, (byNas = new Map()));
    const key = `${type} ${code} ${outcome}`;
    let tally = byNas.get(key);
    if (!tally) byNas.set(key, (tally = requests.tally(`${nas}\0${key}`, () => ({ type, code, nas, outcome }))));
    return tally;
  };
  const secondsTallies = new Map<string, HistogramTally>();
  const secondsTally = (type: string): HistogramTally => {
    let tally = secondsTallies.get(type);
    if (!tally) secondsTallies.set(type, (tally = seconds.tally(type, () => ({ type }))));
    return tally;
  };
  const rejectTallies = new Map<string, CounterTally>();
  return {
    request(type, nas, code, outcome, s) {
      requestTally(type, nas, code, outcome).add();
      secondsTally(type).observe(s);
    },
    reject(reason) {
      let tally = rejectTallies.get(reason);
      if (!tally) rejectTallies.set(reason, (tally = rejects.tally(reason, () => ({ reason }))));
      tally.add();
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
