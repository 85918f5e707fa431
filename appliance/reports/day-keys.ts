/**
 * Venue days and hours for rollups. Accounting is the hottest write path, so the local hour is
 * worked out once per quarter hour and zone: every time zone's offset, and so every local hour
 * and midnight, falls on a quarter hour of UTC.
 */
const QUARTER_HOUR_MS = 900_000;
const HOUR_MS = 3_600_000;

interface ZoneCache {
  format: Intl.DateTimeFormat;
  quarter: number;
  /** `YYYY-MM-DDTHH` of the cached quarter hour. */
  hour: string;
}

const zones = new Map<string, ZoneCache>();

function cacheOf(zone: string): ZoneCache {
  let cache = zones.get(zone);
  if (!cache) {
    const format = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    cache = { format, quarter: Number.NaN, hour: '' };
    zones.set(zone, cache);
  }
  return cache;
}

function localHourOf(format: Intl.DateTimeFormat, ms: number): string {
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(ms)) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}`;
}

/** `YYYY-MM-DDTHH`: the local hour of the instant `ms` in `zone` (an IANA name; an unknown one reads as UTC). */
export function hourKeyOf(ms: number, zone: string): string {
  let cache: ZoneCache;
  try {
    cache = cacheOf(zone);
  } catch {
    cache = cacheOf('UTC');
  }
  const quarter = Math.floor(ms / QUARTER_HOUR_MS);
  if (quarter !== cache.quarter) {
    cache.quarter = quarter;
    cache.hour = localHourOf(cache.format, ms);
  }
  return cache.hour;
}

/** `YYYY-MM-DD` of the instant in `zone`. */
export function dayKeyOf(ms: number, zone: string): string {
  return hourKeyOf(ms, zone).slice(0, 10);
}

/** `YYYY-MM` of the instant in `zone`. */
export function monthKeyOf(ms: number, zone: string): string {
  return hourKeyOf(ms, zone).slice(0, 7);
}

/** The hour keys of a venue day: `T00` to `T23` (a day of a clock change has one fewer or one twice). */
export function hoursOfDay(day: string): string[] {
  return Array.from({ length: 24 }, (_, hour) => `${day}T${String(hour).padStart(2, '0')}`);
}

/** The `count` venue days ending with the day of `now`, oldest first. */
export function lastDays(now: number, zone: string, count: number): string[] {
  const days: string[] = [];
  const today = dayKeyOf(now, zone);
  // Step back from noon UTC of today's date: a calendar step, whatever the zone's offset.
  const noon = Date.parse(`${today}T12:00:00Z`);
  for (let back = count - 1; back >= 0; back -= 1) {
    days.push(new Date(noon - back * 86_400_000).toISOString().slice(0, 10));
  }
  return days;
}

/** The local hours of the last `count` hours up to `now`, oldest first (an hour a clock change repeats, once). */
export function lastHours(now: number, zone: string, count: number): string[] {
  const hours: string[] = [];
  for (let back = count - 1; back >= 0; back -= 1) {
    const hour = hourKeyOf(now - back * HOUR_MS, zone);
    if (hours.at(-1) !== hour) hours.push(hour);
  }
  return hours;
}
