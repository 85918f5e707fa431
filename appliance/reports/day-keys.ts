/**
 * Venue days for rollups. Accounting is the hottest write path, so a day key is computed once
 * per quarter hour and zone: every time zone's offset, and so every local midnight, falls on a
 * quarter hour of UTC.
 */
const QUARTER_HOUR_MS = 900_000;

interface ZoneCache {
  format: Intl.DateTimeFormat;
  quarter: number;
  day: string;
}

const zones = new Map<string, ZoneCache>();

function cacheOf(zone: string): ZoneCache {
  let cache = zones.get(zone);
  if (!cache) {
    // en-CA writes dates as YYYY-MM-DD.
    const format = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    cache = { format, quarter: Number.NaN, day: '' };
    zones.set(zone, cache);
  }
  return cache;
}

/** `YYYY-MM-DD` of the instant `ms` in `zone` (an IANA name; an unknown one reads as UTC). */
export function dayKeyOf(ms: number, zone: string): string {
  let cache: ZoneCache;
  try {
    cache = cacheOf(zone);
  } catch {
    cache = cacheOf('UTC');
  }
  const quarter = Math.floor(ms / QUARTER_HOUR_MS);
  if (quarter !== cache.quarter) {
    cache.quarter = quarter;
    cache.day = cache.format.format(ms);
  }
  return cache.day;
}

/** `YYYY-MM` of the instant in `zone`. */
export function monthKeyOf(ms: number, zone: string): string {
  return dayKeyOf(ms, zone).slice(0, 7);
}

let lastHour = Number.NaN;
let lastHourKey = '';

/** `YYYY-MM-DDTHH`: the UTC hour of the instant (the last one kept: accounting asks for it per update). */
export function hourKeyOf(ms: number): string {
  const hour = Math.floor(ms / 3_600_000);
  if (hour !== lastHour) {
    lastHourKey = new Date(hour * 3_600_000).toISOString().slice(0, 13);
    lastHour = hour;
  }
  return lastHourKey;
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

/** The `count` UTC hours ending with the hour of `now`, oldest first. */
export function lastHours(now: number, count: number): string[] {
  const hours: string[] = [];
  for (let back = count - 1; back >= 0; back -= 1) hours.push(hourKeyOf(now - back * 3_600_000));
  return hours;
}
