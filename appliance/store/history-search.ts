/**
 * Searches of a history read newest first, as far back as needed: both drivers (rotated files,
 * a table paged by sequence) hand over their records in that order, a page at a time (a chunk of
 * a file, a page of rows) — one await per page, not per record — and share these rules.
 */
export async function recordsSince<T>(
  pagesNewestFirst: AsyncIterable<readonly T[]>,
  reached: (record: T) => boolean,
): Promise<T[]> {
  const newer: T[] = [];
  for await (const page of pagesNewestFirst) {
    for (const record of page) {
      if (reached(record)) return newer.reverse();
      newer.push(record);
    }
  }
  return newer.reverse();
}

export async function lastRecord<T>(
  pagesNewestFirst: AsyncIterable<readonly T[]>,
  matches: (record: T) => boolean,
): Promise<T | undefined> {
  for await (const page of pagesNewestFirst) for (const record of page) if (matches(record)) return record;
  return undefined;
}
