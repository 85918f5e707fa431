/** One unit of a duration as people say it: "1 day", "36 h", "1 h 30 min". */
export interface DurationPart {
  amount: number;
  unit: 'day' | 'hour' | 'minute';
}

const DAY = 86_400;
const HOUR = 3600;

/**
 * A plan's duration (or the time left of one) in the units every door shows it in, so the portal
 * and `turnpike plan list` agree: whole days as days; under two days, hours and minutes; under an
 * hour, minutes (rounded up, so "1 min" is left until the end); from two days on, days rounded.
 */
export function durationParts(seconds: number): DurationPart[] {
  if (seconds < HOUR) return [{ amount: Math.max(0, Math.ceil(seconds / 60)), unit: 'minute' }];
  if (seconds % DAY === 0 || seconds >= 2 * DAY) return [{ amount: Math.round(seconds / DAY), unit: 'day' }];
  const hours = Math.floor(seconds / HOUR);
  const minutes = Math.floor((seconds % HOUR) / 60);
  const parts: DurationPart[] = [{ amount: hours, unit: 'hour' }];
  if (minutes > 0) parts.push({ amount: minutes, unit: 'minute' });
  return parts;
}
