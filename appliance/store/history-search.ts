/**
 * Searches of a history read newest first, as far back as needed: both drivers (rotated files,
 * a table paged by sequence) hand over their records in that order and share these rules.
 */
export async function recordsSince<T>(newestFirst: AsyncIterable<T>, reached: (record: T) => boolean): Promise<T[]> {
  const newer: T[] = [];
  for await (const record of newestFirst) {
    if (reached(record)) break;
    newer.push(record);
  }
  return newer.reverse();
}

export async function lastRecord<T>(
  newestFirst: AsyncIterable<T>,
  matches: (record: T) => boolean,
): Promise<T | undefined> {
  for await (const record of newestFirst) if (matches(record)) return record;
  return undefined;
}
