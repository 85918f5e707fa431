import { X509Certificate } from 'node:crypto';
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Db } from '../domain/model.js';
import { PKI_FILES } from '../pki/pki-store.js';
import type { ReconcileReport } from '../provisioning/reconciler.js';
import { registerNasTrustMetrics } from './nas-trust-metrics.js';

export interface ApplianceMetricsOptions {
  registry: Registry;
  store: { readonly db: Readonly<Db> };
  dataDir: string;
  /** The provisioner PKI (ca.pem, server.pem, client.pem); their expiry is exported. */
  tlsDir: string;
}

export interface ApplianceMetrics {
  /** Scheduler hook: one finished run. */
  jobRan(job: string, ok: boolean, seconds: number): void;
  /** Provisioning hook: one target's reconcile report. */
  reconciled(report: ReconcileReport): void;
}

const CORRECTIONS = ['allowed', 'revoked', 'ensured', 'suspended', 'deleted'] as const;

/**
 * The box's state as Prometheus sees it. Everything read from the store is
 * computed at scrape time (nothing per request), and every label is bounded by
 * configuration or a fixed list: mode, NAS name, plan name, status, currency,
 * job name, site, certificate. Never a user, MAC, IP or session.
 */
export function createApplianceMetrics(o: ApplianceMetricsOptions): ApplianceMetrics {
  const registers = [o.registry];
  const db = (): Readonly<Db> => o.store.db;
  registerNasTrustMetrics(o.registry, db);

  new Gauge({
    name: 'turnpike_sessions_live',
    help: 'Live sessions by enforcement mode and NAS (gateway sessions have nas="gateway")',
    labelNames: ['mode', 'nas'],
    registers,
    collect() {
      this.reset();
      const state = db();
      const counts = new Map<string, { mode: string; nas: string; n: number }>();
      for (const session of Object.values(state.sessions)) {
        const nas = session.nasId ? (state.nasClients[session.nasId]?.name ?? 'unknown') : 'gateway';
        const key = `${session.mode}\u0000${nas}`;
        const entry = counts.get(key) ?? { mode: session.mode, nas, n: 0 };
        entry.n += 1;
        counts.set(key, entry);
      }
      for (const { mode, nas, n } of counts.values()) this.set({ mode, nas }, n);
    },
  });

  new Gauge({
    name: 'turnpike_subscriptions',
    help: 'Subscriptions by plan and status',
    labelNames: ['plan', 'status'],
    registers,
    collect() {
      this.reset();
      const state = db();
      for (const sub of Object.values(state.subscriptions)) {
        this.inc({ plan: state.plans[sub.planId]?.name ?? 'deleted plan', status: sub.status });
      }
    },
  });

  new Counter({
    name: 'turnpike_payments_total',
    help: 'Payments by kind and status',
    labelNames: ['kind', 'status'],
    registers,
    collect() {
      this.reset();
      for (const p of Object.values(db().payments.payments)) this.inc({ kind: p.kind, status: p.status });
    },
  });

  new Counter({
    name: 'turnpike_revenue_minor_total',
    help: 'Paid amounts in minor units (cents), by currency; refunds are not subtracted',
    labelNames: ['currency'],
    registers,
    collect() {
      this.reset();
      for (const p of Object.values(db().payments.payments)) {
        if (p.status === 'paid' || p.status === 'refunded')
          this.inc({ currency: p.currency.toLowerCase() }, p.amountMinor);
      }
    },
  });

  new Gauge({
    name: 'turnpike_data_dir_bytes',
    help: 'Filesystem holding the data dir: size and free bytes (for the disk-filling alert)',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      try {
        const fs = statfsSync(o.dataDir);
        this.set({ kind: 'size' }, fs.blocks * fs.bsize);
        this.set({ kind: 'free' }, fs.bavail * fs.bsize);
      } catch {
        // No data dir yet (or gone): no sample rather than a wrong one.
      }
    },
  });

  new Gauge({
    name: 'turnpike_provisioner_certificate_expiry_timestamp_seconds',
    help: 'When each provisioner PKI certificate expires (ca, server, client)',
    labelNames: ['certificate'],
    registers,
    collect() {
      this.reset();
      for (const [certificate, file] of [
        ['ca', PKI_FILES.caCert],
        ['server', PKI_FILES.serverCert],
        ['client', PKI_FILES.clientCert],
      ] as const) {
        try {
          const cert = new X509Certificate(readFileSync(join(o.tlsDir, file)));
          this.set({ certificate }, Math.floor(new Date(cert.validTo).getTime() / 1000));
        } catch {
          // Controller mode without provisioners has no PKI.
        }
      }
    },
  });

  const jobRuns = new Counter({
    name: 'turnpike_scheduler_job_runs_total',
    help: 'Scheduled job runs by job and outcome (ok, failed)',
    labelNames: ['job_name', 'outcome'],
    registers,
  });
  const jobSeconds = new Histogram({
    name: 'turnpike_scheduler_job_duration_seconds',
    help: 'Scheduled job run time by job',
    labelNames: ['job_name'],
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers,
  });
  const jobLastSuccess = new Gauge({
    name: 'turnpike_scheduler_job_last_success_timestamp_seconds',
    help: 'When each job last finished without error',
    labelNames: ['job_name'],
    registers,
  });

  const corrections = new Counter({
    name: 'turnpike_provisioner_reconcile_corrections_total',
    help: 'Drift the reconcile loop corrected on a provisioner, by site and kind (allowed, revoked, ensured, suspended, deleted, garden)',
    labelNames: ['site', 'kind'],
    registers,
  });
  const failures = new Counter({
    name: 'turnpike_provisioner_reconcile_failures_total',
    help: 'Reconcile calls that failed (retried next round), by site',
    labelNames: ['site'],
    registers,
  });
  const up = new Gauge({
    name: 'turnpike_provisioner_up',
    help: '1 when the last reconcile round reached the provisioner of a site',
    labelNames: ['site'],
    registers,
  });
  const lastRound = new Gauge({
    name: 'turnpike_provisioner_last_reconcile_timestamp_seconds',
    help: 'When the last reconcile round for a site ended',
    labelNames: ['site'],
    registers,
  });

  return {
    jobRan(job, ok, seconds) {
      jobRuns.inc({ job_name: job, outcome: ok ? 'ok' : 'failed' });
      jobSeconds.observe({ job_name: job }, seconds);
      if (ok) jobLastSuccess.setToCurrentTime({ job_name: job });
    },
    reconciled(report) {
      const site = report.site;
      // Every series exists from the first round (at 0), so rate() and alerts see a site that never drifted.
      for (const kind of CORRECTIONS) corrections.inc({ site, kind }, report[kind]);
      corrections.inc({ site, kind: 'garden' }, report.gardenSet ? 1 : 0);
      failures.inc({ site }, report.failures);
      up.set({ site }, report.reachable ? 1 : 0);
      lastRound.setToCurrentTime({ site });
    },
  };
}
