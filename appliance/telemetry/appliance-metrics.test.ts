import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { silentLogger } from '../../shared/logger.js';
import { Scheduler } from '../scheduler.js';
import { tempStore } from '../testing/temp-store.js';
import { createApplianceMetrics } from './appliance-metrics.js';

test('scheduler job health and reconcile drift reach Prometheus by job and site', async (t) => {
  const store = await tempStore(t, 'h14-metrics-');
  const registry = new Registry();
  const metrics = createApplianceMetrics({ registry, store, dataDir: store.dir, tlsDir: store.dir });
  const scheduler = new Scheduler(silentLogger, { onRun: (job, ok, s) => metrics.jobRan(job, ok, s) });
  t.after(() => scheduler.stop());
  scheduler.add({ name: 'expire subscriptions', everyMs: 10, run: async () => undefined });
  scheduler.add({
    name: 'recover payment events',
    everyMs: 10,
    run: async () => {
      throw new Error('provider unreachable');
    },
  });
  await sleep(100);
  await scheduler.stop();
  metrics.reconciled({
    site: 'lobby',
    reachable: true,
    allowed: 3,
    revoked: 1,
    gardenSet: false,
    ensured: 0,
    suspended: 0,
    deleted: 0,
    failures: 2,
  });

  const text = await registry.metrics();
  assert.match(text, /turnpike_scheduler_job_runs_total\{job_name="expire subscriptions",outcome="ok"\} [1-9]/);
  assert.match(text, /turnpike_scheduler_job_runs_total\{job_name="recover payment events",outcome="failed"\} [1-9]/);
  assert.match(text, /turnpike_scheduler_job_last_success_timestamp_seconds\{job_name="expire subscriptions"\}/);
  assert.doesNotMatch(text, /last_success_timestamp_seconds\{job_name="recover payment events"\}/);
  assert.match(text, /turnpike_provisioner_reconcile_corrections_total\{site="lobby",kind="allowed"\} 3/);
  assert.match(text, /turnpike_provisioner_reconcile_corrections_total\{site="lobby",kind="deleted"\} 0/);
  assert.match(text, /turnpike_provisioner_reconcile_failures_total\{site="lobby"\} 2/);
  assert.match(text, /turnpike_provisioner_up\{site="lobby"\} 1/);
  assert.match(text, /turnpike_data_dir_bytes\{kind="free"\} [1-9]/);
});
