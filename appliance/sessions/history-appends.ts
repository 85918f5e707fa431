/**
 * Waits for a store mutation and then for the history appends it started (so that both reach the
 * disk together). `appends` collects the appends of every run of the mutation: a store that re-runs
 * a mutation after a conflict starts them again. When the mutation fails — the database is out of
 * reach, or a conflict ran out of retries — the appends are still awaited and their own failures
 * dropped: an append left unawaited would reject with nobody listening, and an unhandled rejection
 * ends the process.
 */
export async function afterMutation<T>(update: Promise<T>, appends: ReadonlyArray<Promise<unknown>>): Promise<T> {
  let result: T;
  try {
    result = await update;
  } catch (err) {
    await Promise.allSettled(appends);
    throw err;
  }
  await Promise.all(appends);
  return result;
}
