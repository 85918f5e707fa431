import type { Clock } from '../shared/clock.js';
import { addNasClient } from './nas/nas-clients.js';
import { seedDemoCatalogue } from './plans/demo-catalogue.js';
import type { Store } from './store/store.js';

export const LOCAL_NAS_NAME = 'local';

/**
 * What `npm start` adds so that a first run shows a working portal and
 * answers `radtest` at once: a demo plan catalogue and a NAS client for
 * 127.0.0.1. `turnpike init` (production) adds neither.
 */
export async function seedEmbeddedDefaults(store: Store, clock: Clock): Promise<{ localNasSecret: string }> {
  if (Object.keys(store.db.plans).length === 0) await seedDemoCatalogue(store, clock);
  const existing = Object.values(store.db.nasClients).find((client) => client.name === LOCAL_NAS_NAME);
  if (existing) return { localNasSecret: existing.secret };
  const created = await addNasClient(store, clock, {
    name: LOCAL_NAS_NAME,
    source: '127.0.0.1',
    dialect: 'coovachilli',
    requireMessageAuthenticator: true,
  });
  return { localNasSecret: created.secret };
}
