import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Db, Plan, Service } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import { usagePeriodProblem } from '../quotas/usage-period.js';
import type { Store } from '../store/store.js';
import { auditIn, SYSTEM, type Actor } from '../accounts/audit.js';

export const SERVICES: readonly Service[] = ['internet', 'ssh', 'ftp'];

/** What an operator may set on a plan; everything else is bookkeeping. */
export type PlanInput = Omit<Plan, 'id' | 'createdAt' | 'updatedAt' | 'archived'>;

export const PLAN_DEFAULTS: Omit<PlanInput, 'name'> = {
  description: '',
  priceMinor: 0,
  currency: 'EUR',
  durationSeconds: 3600,
  quotaBytes: null,
  bandwidthUpKbps: null,
  bandwidthDownKbps: null,
  maxDevices: 1,
  idleTimeoutSeconds: null,
  services: ['internet'],
  recurring: false,
  freeTier: null,
  usagePeriod: null,
  onQuotaExhausted: { action: 'disconnect' },
  visible: true,
};

function invalid(field: string, message: string): TurnpikeError {
  return new TurnpikeError('TP_ERR_VALIDATION', `${field}: ${message}`, { field });
}

function positiveOrNull(value: unknown, field: string): void {
  if (value !== null && (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)) {
    throw invalid(field, 'a positive integer or null');
  }
}

/** Checks a complete plan; names the first bad field. */
export function assertPlan(plan: PlanInput): void {
  if (typeof plan.name !== 'string' || plan.name.trim().length < 1 || plan.name.length > 60) {
    throw invalid('name', '1–60 characters');
  }
  if (typeof plan.description !== 'string' || plan.description.length > 500)
    throw invalid('description', '≤ 500 characters');
  if (!Number.isSafeInteger(plan.priceMinor) || plan.priceMinor < 0) {
    throw invalid('priceMinor', 'a non-negative integer (minor units)');
  }
  if (typeof plan.currency !== 'string' || !/^[A-Z]{3}$/.test(plan.currency))
    throw invalid('currency', 'ISO 4217, e.g. EUR');
  positiveOrNull(plan.durationSeconds, 'durationSeconds');
  positiveOrNull(plan.quotaBytes, 'quotaBytes');
  positiveOrNull(plan.bandwidthUpKbps, 'bandwidthUpKbps');
  positiveOrNull(plan.bandwidthDownKbps, 'bandwidthDownKbps');
  positiveOrNull(plan.idleTimeoutSeconds, 'idleTimeoutSeconds');
  if (plan.durationSeconds === null && plan.quotaBytes === null) {
    throw invalid('durationSeconds', 'a plan needs a duration, a data quota, or both');
  }
  if (!Number.isSafeInteger(plan.maxDevices) || plan.maxDevices < 1 || plan.maxDevices > 1000) {
    throw invalid('maxDevices', 'an integer 1–1000');
  }
  if (
    !Array.isArray(plan.services) ||
    plan.services.length === 0 ||
    plan.services.some((service) => !SERVICES.includes(service)) ||
    new Set(plan.services).size !== plan.services.length
  ) {
    throw invalid('services', `distinct values from ${SERVICES.join(', ')}`);
  }
  if (typeof plan.recurring !== 'boolean') throw invalid('recurring', 'true or false');
  if (typeof plan.visible !== 'boolean') throw invalid('visible', 'true or false');
  if (plan.recurring && plan.priceMinor === 0) throw invalid('recurring', 'a recurring plan must have a price');
  if (plan.freeTier !== null) {
    const period = plan.freeTier?.periodSeconds;
    if (typeof period !== 'number' || !Number.isSafeInteger(period) || period < 60) {
      throw invalid('freeTier.periodSeconds', 'an integer ≥ 60');
    }
    if (plan.priceMinor !== 0) throw invalid('freeTier', 'a free tier must cost nothing');
  }
  const periodProblem = usagePeriodProblem(plan.usagePeriod);
  if (periodProblem) throw invalid('usagePeriod', periodProblem);
  if (plan.usagePeriod !== null && plan.quotaBytes === null)
    throw invalid('usagePeriod', 'a usage period needs a data quota');
  const onQuota = plan.onQuotaExhausted;
  if (onQuota?.action === 'throttle') {
    if (
      !Number.isSafeInteger(onQuota.upKbps) ||
      onQuota.upKbps <= 0 ||
      !Number.isSafeInteger(onQuota.downKbps) ||
      onQuota.downKbps <= 0
    ) {
      throw invalid('onQuotaExhausted', 'throttle rates must be positive integers');
    }
  } else if (onQuota?.action !== 'disconnect') {
    throw invalid('onQuotaExhausted', '{ action: "disconnect" } or { action: "throttle", upKbps, downKbps }');
  }
}

function nameTaken(db: Readonly<Db>, name: string, exceptId: string | null): boolean {
  const wanted = name.trim().toLowerCase();
  return Object.values(db.plans).some(
    (plan) => !plan.archived && plan.id !== exceptId && plan.name.toLowerCase() === wanted,
  );
}

export async function createPlan(
  store: Store,
  clock: Clock,
  input: Partial<PlanInput> & { name: string },
  actor: Actor = SYSTEM,
): Promise<Plan> {
  const now = clock.now();
  const plan: Plan = {
    ...PLAN_DEFAULTS,
    ...input,
    name: input.name.trim(),
    id: randomUUID(),
    archived: false,
    createdAt: now,
    updatedAt: now,
  };
  assertPlan(plan);
  return store.update((db, histories) => {
    if (nameTaken(db, plan.name, null)) throw new TurnpikeError('TP_ERR_CONFLICT', `a plan named ${plan.name} exists`);
    db.plans[plan.id] = plan;
    auditIn(histories, now, actor, { action: 'plan.created', target: plan.id, after: plan });
    return plan;
  });
}

export async function updatePlan(
  store: Store,
  clock: Clock,
  id: string,
  patch: Partial<PlanInput>,
  actor: Actor = SYSTEM,
): Promise<Plan> {
  return store.update((db, histories) => {
    const current = db.plans[id];
    if (!current || current.archived) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no plan ${id}`);
    const next: Plan = {
      ...current,
      ...patch,
      id,
      archived: false,
      createdAt: current.createdAt,
      updatedAt: clock.now(),
    };
    if (typeof next.name === 'string') next.name = next.name.trim();
    assertPlan(next);
    if (nameTaken(db, next.name, id)) throw new TurnpikeError('TP_ERR_CONFLICT', `a plan named ${next.name} exists`);
    db.plans[id] = next;
    auditIn(histories, next.updatedAt, actor, {
      action: 'plan.updated',
      target: id,
      before: { ...current },
      after: next,
    });
    return next;
  });
}

/** Plans are archived, never deleted: subscriptions and vouchers keep pointing at them. */
export async function archivePlan(store: Store, clock: Clock, id: string, actor: Actor = SYSTEM): Promise<Plan> {
  return store.update((db, histories) => {
    const current = db.plans[id];
    if (!current || current.archived) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no plan ${id}`);
    const next = { ...current, archived: true, visible: false, updatedAt: clock.now() };
    db.plans[id] = next;
    const retired = { archived: true, visible: false };
    auditIn(histories, next.updatedAt, actor, {
      action: 'plan.retired',
      target: id,
      before: { archived: current.archived, visible: current.visible },
      after: retired,
    });
    return next;
  });
}

export function listPlans(db: Readonly<Db>, options: { includeArchived?: boolean } = {}): Plan[] {
  return Object.values(db.plans)
    .filter((plan) => options.includeArchived || !plan.archived)
    .sort(
      (a, b) =>
        a.priceMinor - b.priceMinor ||
        (a.durationSeconds ?? 0) - (b.durationSeconds ?? 0) ||
        a.name.localeCompare(b.name),
    );
}

/** What the portal offers: visible, not archived, cheapest first. */
export function visiblePlans(db: Readonly<Db>): Plan[] {
  return listPlans(db).filter((plan) => plan.visible);
}

export function findPlan(db: Readonly<Db>, idOrName: string): Plan | null {
  const byId = db.plans[idOrName];
  if (byId && !byId.archived) return byId;
  const wanted = idOrName.trim().toLowerCase();
  return listPlans(db).find((plan) => plan.name.toLowerCase() === wanted) ?? null;
}

export function requirePlan(db: Readonly<Db>, idOrName: string): Plan {
  const plan = findPlan(db, idOrName);
  if (!plan) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no plan ${idOrName}`);
  return plan;
}
