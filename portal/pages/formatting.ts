import type { Plan } from '../../appliance/domain/model.js';
import { durationParts } from '../../appliance/plans/plan-duration.js';
import { format, MESSAGES, type Language, type Messages } from '../i18n/messages.js';

const money = new Map<string, Intl.NumberFormat>();

function moneyFormat(lang: Language, currency: string): Intl.NumberFormat {
  const key = `${lang}|${currency}`;
  let formatter = money.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(MESSAGES[lang].locale, { style: 'currency', currency });
    money.set(key, formatter);
  }
  return formatter;
}

export function formatDuration(seconds: number | null, t: Messages): string {
  if (seconds === null) return t.unlimited;
  const words = { day: t.days, hour: t.hours, minute: t.minutes };
  return durationParts(seconds)
    .map(({ amount, unit }) => `${amount} ${unit === 'day' && amount === 1 ? t.day : words[unit]}`)
    .join(' ');
}

const amounts = new Map<string, Intl.NumberFormat>();

/** Whole numbers from 10 up, one decimal below: "1.5 GB", "1,5 GB" in German. */
function amountFormat(locale: string, decimals: number): Intl.NumberFormat {
  const key = `${locale}|${decimals}`;
  let formatter = amounts.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    amounts.set(key, formatter);
  }
  return formatter;
}

export function formatBytes(bytes: number | null, t: Messages): string {
  if (bytes === null) return t.unlimited;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const decimals = value >= 10 || unit === 0 ? 0 : 1;
  return `${amountFormat(t.locale, decimals).format(value)} ${units[unit]}`;
}

export interface PlanCard {
  id: string;
  name: string;
  description: string;
  price: string;
  duration: string;
  data: string;
  devices: string;
  free: boolean;
}

export function planCard(plan: Plan, lang: Language, t: Messages): PlanCard {
  const price =
    plan.priceMinor === 0
      ? t.free
      : `${moneyFormat(lang, plan.currency).format(plan.priceMinor / 100)}${plan.recurring ? ` ${t.perMonth}` : ''}`;
  return {
    id: plan.id,
    name: plan.name,
    description: plan.description,
    price,
    duration: formatDuration(plan.durationSeconds, t),
    data: formatBytes(plan.quotaBytes, t),
    devices: plan.maxDevices === 1 ? t.oneDevice : format(t.devicesUpTo, { n: plan.maxDevices }),
    free: plan.freeTier !== null,
  };
}

/** Minor units to the currency's own decimals (cents for EUR, none for JPY); never through a float sum. */
export function formatMoney(amountMinor: number, currency: string, lang: Language): string {
  const formatter = moneyFormat(lang, currency);
  const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
  return formatter.format(amountMinor / 10 ** digits);
}

const dates = new Map<Language, Intl.DateTimeFormat>();

export function formatDate(ms: number, lang: Language): string {
  let formatter = dates.get(lang);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(MESSAGES[lang].locale, { dateStyle: 'medium' });
    dates.set(lang, formatter);
  }
  return formatter.format(ms);
}

/** A date and time in the venue's time zone, e.g. when a quota comes back. */
export function formatMoment(ms: number, lang: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(MESSAGES[lang].locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone,
  }).format(ms);
}
