import type Stripe from 'stripe';
import type { Clock } from '../../shared/clock.js';
import type { Store } from '../store/store.js';
import type { EventApplier } from './event-applier.js';

export interface RecoveryResult {
  seen: number;
  applied: number;
  cursorEventId: string | null;
}

const PAGE = 100;

async function saveCursor(store: Store, cursorEventId: string): Promise<void> {
  await store.update((db) => {
    db.payments.processedEvents.cursorEventId = cursorEventId;
  });
}

/**
 * Walks the provider's event list forward from the cursor (oldest first) and
 * applies whatever the webhooks did not deliver. The cursor only moves past an
 * event once it has been applied, so a failure is retried on the next run.
 * Without a cursor it starts at `sinceSeconds`, the first time payments ran.
 */
export async function recoverMissedEvents(deps: {
  store: Store;
  clock: Clock;
  stripe: Stripe;
  applier: EventApplier;
}): Promise<RecoveryResult> {
  const { store, stripe, applier } = deps;
  let state = store.db.payments.processedEvents;
  if (state.sinceSeconds === null) {
    const sinceSeconds = Math.floor(deps.clock.now() / 1000);
    await store.update((db) => {
      db.payments.processedEvents.sinceSeconds ??= sinceSeconds;
    });
    state = store.db.payments.processedEvents;
  }
  let seen = 0;
  let applied = 0;
  let cursor = state.cursorEventId;

  const applyInOrder = async (oldestFirst: Stripe.Event[]): Promise<void> => {
    for (const event of oldestFirst) {
      seen += 1;
      if ((await applier.apply(event, 'recovery')) === 'applied') applied += 1;
      cursor = event.id;
    }
    if (cursor) await saveCursor(store, cursor);
  };

  if (cursor === null) {
    const newestFirst: Stripe.Event[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await stripe.events.list({
        limit: PAGE,
        created: { gte: state.sinceSeconds ?? 0 },
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      });
      newestFirst.push(...page.data);
      if (!page.has_more || page.data.length === 0) break;
      startingAfter = page.data[page.data.length - 1]!.id;
    }
    await applyInOrder(newestFirst.reverse());
    return { seen, applied, cursorEventId: cursor };
  }

  for (;;) {
    const page = await stripe.events.list({ limit: PAGE, ending_before: cursor });
    if (page.data.length === 0) break;
    await applyInOrder([...page.data].reverse());
    if (!page.has_more) break;
  }
  return { seen, applied, cursorEventId: cursor };
}
