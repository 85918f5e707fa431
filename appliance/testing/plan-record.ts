import type { Plan } from '../domain/model.js';
import { PLAN_DEFAULTS } from '../plans/plans.js';

/** A complete Plan record for tests: the operator defaults, named after its id, plus what the test sets. */
export function planRecord(overrides: Partial<Plan> & Pick<Plan, 'id'>): Plan {
  return {
    ...PLAN_DEFAULTS,
    services: [...PLAN_DEFAULTS.services],
    name: overrides.id,
    archived: false,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}
