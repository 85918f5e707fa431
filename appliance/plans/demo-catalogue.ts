import type { Clock } from '../../shared/clock.js';
import type { Plan } from '../domain/model.js';
import type { Store } from '../store/store.js';
import { createPlan, listPlans, type PlanInput } from './plans.js';

const DAY = 86_400;

/** A small catalogue so that a first `npm start` shows a working portal. Only the embedded default seeds it. */
export const DEMO_PLANS: ReadonlyArray<Partial<PlanInput> & { name: string }> = [
  {
    name: 'Free 30 minutes',
    description: '30 minutes once a day per device',
    durationSeconds: 1800,
    quotaBytes: 200 * 1024 * 1024,
    bandwidthDownKbps: 2000,
    bandwidthUpKbps: 500,
    freeTier: { periodSeconds: DAY },
  },
  { name: 'One hour', description: 'Fast internet for an hour', priceMinor: 200, durationSeconds: 3600, maxDevices: 2 },
  {
    name: 'One day',
    description: '24 hours on up to three devices',
    priceMinor: 500,
    durationSeconds: DAY,
    maxDevices: 3,
  },
  {
    name: 'Monthly',
    description: 'Renews every 30 days; cancel any time',
    priceMinor: 1900,
    durationSeconds: 30 * DAY,
    maxDevices: 5,
    recurring: true,
    services: ['internet', 'ssh', 'ftp'],
  },
];

/** Seeds the demo plans into an empty catalogue; does nothing when plans exist. */
export async function seedDemoCatalogue(store: Store, clock: Clock): Promise<Plan[]> {
  if (listPlans(store.db, { includeArchived: true }).length > 0) return [];
  const created: Plan[] = [];
  for (const plan of DEMO_PLANS) created.push(await createPlan(store, clock, plan));
  return created;
}
