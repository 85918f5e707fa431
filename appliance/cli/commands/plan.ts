import { seedDemoCatalogue } from '../../plans/demo-catalogue.js';
import { durationParts } from '../../plans/plan-duration.js';
import { archivePlan, listPlans, requirePlan } from '../../plans/plans.js';
import { UsageError, type StoreCommand } from '../command.js';

function money(minor: number, currency: string): string {
  return minor === 0 ? 'free' : `${(minor / 100).toFixed(2)} ${currency}`;
}

const UNIT = { hour: 'h', minute: 'min' } as const;

/** The same units as the portal's plan cards, in English. */
function span(seconds: number | null): string {
  if (seconds === null) return 'no time limit';
  return durationParts(seconds)
    .map(({ amount, unit }) => `${amount} ${unit === 'day' ? (amount === 1 ? 'day' : 'days') : UNIT[unit]}`)
    .join(' ');
}

const listPlan: StoreCommand = {
  kind: 'store',
  path: ['plan', 'list'],
  usage: 'plan list',
  summary: 'list plans (name, price, duration, data, devices)',
  mutates: false,
  async run({ store }) {
    const plans = listPlans(store.db);
    if (plans.length === 0) return ['no plans; create them with POST /api/v1/plans or the admin console'];
    return plans.map((plan) =>
      [
        plan.name.padEnd(24),
        money(plan.priceMinor, plan.currency).padEnd(12),
        span(plan.durationSeconds).padEnd(14),
        (plan.quotaBytes === null ? 'unlimited' : `${Math.round(plan.quotaBytes / 1024 ** 2)} MB`).padEnd(10),
        `${plan.maxDevices} dev`,
        plan.freeTier ? ' free-tier' : '',
        plan.recurring ? ' recurring' : '',
        plan.visible ? '' : ' hidden',
        `  ${plan.id}`,
      ].join(''),
    );
  },
};

const archive: StoreCommand = {
  kind: 'store',
  path: ['plan', 'archive'],
  usage: 'plan archive NAME|ID',
  summary: 'hide a plan for good (existing subscriptions keep it)',
  mutates: true,
  async run({ store, clock }, args) {
    const [name] = args;
    if (!name) throw new UsageError(`usage: turnpike ${this.usage}`);
    const plan = await archivePlan(store, clock, requirePlan(store.db, name).id);
    return [`plan ${plan.name} archived`];
  },
};

const seedDemo: StoreCommand = {
  kind: 'store',
  path: ['plan', 'seed-demo'],
  usage: 'plan seed-demo',
  summary: 'add the demo catalogue (free tier, hour, day, monthly) to an empty catalogue',
  mutates: true,
  async run({ store, clock }) {
    const created = await seedDemoCatalogue(store, clock);
    return created.length === 0
      ? ['plans exist already; nothing seeded']
      : created.map((plan) => `plan ${plan.name} added`);
  },
};

export const PLAN_COMMANDS: StoreCommand[] = [listPlan, archive, seedDemo];
