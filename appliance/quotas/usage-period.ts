import { DateTime, type DurationLikeObject } from 'luxon';
import type { Plan, Subscription, UsagePeriod } from '../domain/model.js';

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Whether `zone` is an IANA time zone this runtime knows (e.g. Europe/Berlin). */
export function isTimeZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

/** Checks a plan's usage period; names what is wrong. */
export function usagePeriodProblem(period: unknown): string | null {
  if (period === null) return null;
  if (typeof period !== 'object') return 'null, or { every: day|week|month, anchor: start|HH:MM }';
  const { every, anchor } = period as Partial<UsagePeriod>;
  if (every !== 'day' && every !== 'week' && every !== 'month') return 'every: day, week or month';
  if (anchor !== 'start' && !(typeof anchor === 'string' && TIME_OF_DAY.test(anchor))) {
    return "anchor: 'start' (the subscription's start) or a local time of day HH:MM";
  }
  return null;
}

/**
 * The period that `now` falls in: when it started and when the quota comes back. Anchored at the
 * subscription's start, periods run from that instant in steps of a day, week or month of the
 * venue's calendar (a month from 31 January ends on the last day of February). Anchored at a time
 * of day, they start at that local time: every day, every Monday, or on the first of the month.
 */
export function usagePeriodAt(
  period: UsagePeriod,
  subscriptionStartedAt: number,
  now: number,
  zone: string,
): { startedAt: number; resetsAt: number } {
  if (period.anchor === 'start') {
    const origin = DateTime.fromMillis(subscriptionStartedAt, { zone });
    const step = (count: number): number => origin.plus(scaled(period.every, count)).toMillis();
    if (now < subscriptionStartedAt) return { startedAt: subscriptionStartedAt, resetsAt: step(1) };
    // Count steps from the origin, never from the previous period, so month ends do not drift.
    const unit = UNIT[period.every];
    let steps = Math.max(0, Math.floor(DateTime.fromMillis(now, { zone }).diff(origin, unit).as(unit)) - 1);
    while (step(steps + 1) <= now) steps += 1;
    return { startedAt: step(steps), resetsAt: step(steps + 1) };
  }
  const [hour, minute] = period.anchor.split(':').map(Number) as [number, number];
  let start = DateTime.fromMillis(now, { zone }).set({ hour, minute, second: 0, millisecond: 0 });
  if (period.every === 'week') start = start.set({ weekday: 1 });
  if (period.every === 'month') start = start.set({ day: 1 });
  if (start.toMillis() > now) start = start.minus(scaled(period.every, 1));
  return { startedAt: start.toMillis(), resetsAt: start.plus(scaled(period.every, 1)).toMillis() };
}

const UNIT = { day: 'days', week: 'weeks', month: 'months' } as const;
const scaled = (every: UsagePeriod['every'], count: number): DurationLikeObject => ({ [UNIT[every]]: count });

/** When the subscription's quota next resets, or null when its plan has no usage period. */
export function quotaResetsAt(plan: Plan, subscription: Subscription, now: number, zone: string): number | null {
  if (!plan.usagePeriod || plan.quotaBytes === null) return null;
  return usagePeriodAt(plan.usagePeriod, subscription.startedAt, now, zone).resetsAt;
}

/**
 * Starts a new usage period when the current one has ended: the quota is whole again. Accounting
 * calls it before charging, the reset job for everyone else. Returns whether it reset.
 */
export function rollUsagePeriodIn(plan: Plan, subscription: Subscription, now: number, zone: string): boolean {
  if (!plan.usagePeriod) return false;
  const start = usagePeriodAt(plan.usagePeriod, subscription.startedAt, now, zone).startedAt;
  if ((subscription.usagePeriodStartedAt ?? subscription.startedAt) >= start) return false;
  subscription.usagePeriodStartedAt = start;
  // A top-up is data for the period it was bought in; the new period starts from the plan's quota.
  const toppedUp = (subscription.topUpBytes ?? 0) > 0;
  if (subscription.topUpBytes !== undefined) delete subscription.topUpBytes;
  if (subscription.bytesUsed === 0 && !toppedUp) return false;
  subscription.bytesUsed = 0;
  subscription.updatedAt = now;
  return true;
}
