import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../shared/clock.js';
import { Leases } from './leases/leases.js';
import { silentLogger } from '../shared/logger.js';
import { jobLeaseName, Scheduler } from './scheduler.js';
import { tempStore } from './testing/temp-store.js';

const TTL_MS = 300;

async function until(check: () => boolean, withinMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await sleep(10);
  }
  return Date.now() - started;
}

test('two appliances on one store: each job runs on exactly one of them', async (t) => {
  const store = await tempStore(t, 'h10multi-sched-');
  const runs = { a: [] as string[], b: [] as string[] };
  const schedulers = (['a', 'b'] as const).map((box) => {
    const scheduler = new Scheduler(silentLogger, {
      leases: new Leases({ store, clock: systemClock, holder: box }),
      leaseTtlMs: TTL_MS,
    });
    for (const name of ['expire subscriptions', 'prune free-tier uses']) {
      scheduler.add({ name, everyMs: 20, run: async () => void runs[box].push(name) });
    }
    return scheduler;
  });
  t.after(() => Promise.all(schedulers.map((scheduler) => scheduler.stop())));

  await sleep(400);

  for (const name of ['expire subscriptions', 'prune free-tier uses']) {
    const on = (['a', 'b'] as const).filter((box) => runs[box].includes(name));
    assert.equal(on.length, 1, `"${name}" ran on ${on.join(' and ') || 'neither'}`);
    assert.equal(store.db.leases[jobLeaseName({ name })]?.holder, on[0]);
  }
});

test('a dead leader’s job moves to another appliance once its lease expires', async (t) => {
  const store = await tempStore(t, 'h10multi-sched-');
  const dead = new Leases({ store, clock: systemClock, holder: 'dead-box' });
  const job = { name: 'expire subscriptions', everyMs: 20 };
  // The leader took the lease, then died: nothing renews it any more.
  assert.deepEqual(await dead.claim([jobLeaseName(job)], TTL_MS), [jobLeaseName(job)]);
  const diedAt = Date.now();

  let firstRunAt = 0;
  const survivor = new Scheduler(silentLogger, {
    leases: new Leases({ store, clock: systemClock, holder: 'survivor' }),
    leaseTtlMs: TTL_MS,
  });
  t.after(() => survivor.stop());
  survivor.add({ ...job, run: async () => void (firstRunAt ||= Date.now()) });

  await until(() => firstRunAt > 0, 2_000);
  const tookOverAfter = firstRunAt - diedAt;
  assert.ok(tookOverAfter >= TTL_MS, `ran ${tookOverAfter} ms after the death, before the lease expired`);
  assert.ok(tookOverAfter < TTL_MS + 1_000, `took over only after ${tookOverAfter} ms`);
  await until(() => survivor.leading().length === 1, 1_000);
  assert.deepEqual(survivor.leading(), [jobLeaseName(job)]);
});

test('a clean stop hands the jobs over at once and waits for the run in flight', async (t) => {
  const store = await tempStore(t, 'h10multi-sched-');
  let finished = false;
  const leader = new Scheduler(silentLogger, {
    leases: new Leases({ store, clock: systemClock, holder: 'leader' }),
    leaseTtlMs: 60_000,
  });
  leader.add({
    name: 'reconcile',
    everyMs: 10,
    run: async () => {
      await sleep(50);
      finished = true;
    },
  });
  await until(() => leader.leading().length === 1, 1_000);
  await sleep(20);

  await leader.stop();
  assert.equal(finished, true, 'the run in flight completed before stop() returned');
  assert.equal(store.db.leases[jobLeaseName({ name: 'reconcile' })], undefined);

  const next = new Scheduler(silentLogger, {
    leases: new Leases({ store, clock: systemClock, holder: 'next' }),
    leaseTtlMs: 60_000,
  });
  t.after(() => next.stop());
  next.add({ name: 'reconcile', everyMs: 10, run: async () => undefined });
  const waited = await until(() => next.leading().length === 1, 1_000);
  assert.ok(waited < 500, `the next appliance waited ${waited} ms, not the 60 s lease`);
});

test('exclusive runs on two appliances never overlap and each one completes', async (t) => {
  const store = await tempStore(t, 'h10multi-sched-');
  const boxes = ['a', 'b'].map((holder) => new Leases({ store, clock: systemClock, holder }));
  let inside = 0;
  let most = 0;
  const order: string[] = [];
  const task = (label: string) => async (): Promise<void> => {
    inside += 1;
    most = Math.max(most, inside);
    await sleep(15);
    order.push(label);
    inside -= 1;
  };
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      boxes[i % 2]!.runExclusive('payments:applier', { ttlMs: 5_000, waitMs: 5_000, pollMs: 5 }, task(`e${i}`)),
    ),
  );
  assert.equal(most, 1);
  assert.equal(order.length, 10);
  assert.equal(store.db.leases['payments:applier'], undefined, 'released after the last run');
});

test('a job about an appliance’s own memory runs on every appliance, holding no lease', async (t) => {
  const store = await tempStore(t, 'tp-h13n-sched-');
  const runs = { a: 0, b: 0 };
  const schedulers = (['a', 'b'] as const).map((box) => {
    const scheduler = new Scheduler(silentLogger, {
      leases: new Leases({ store, clock: systemClock, holder: box }),
      leaseTtlMs: TTL_MS,
    });
    scheduler.add({
      name: 'flush NAS trust figures',
      everyMs: 20,
      everyAppliance: true,
      run: async () => void runs[box]++,
    });
    return scheduler;
  });
  t.after(() => Promise.all(schedulers.map((scheduler) => scheduler.stop())));

  await until(() => runs.a > 2 && runs.b > 2, 2_000);
  assert.equal(store.db.leases[jobLeaseName({ name: 'flush NAS trust figures' })], undefined);
});
