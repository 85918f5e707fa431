import type { NasClient } from '../domain/model.js';

/** A complete NasClient record for tests: a generic NAS on 127.0.0.1 that signs its requests. */
export function nasClientRecord(overrides: Partial<NasClient> & Pick<NasClient, 'id'>): NasClient {
  return {
    name: overrides.id,
    source: '127.0.0.1',
    secret: 'a-long-secret',
    dialect: 'generic',
    coaPort: 3799,
    requireMessageAuthenticator: true,
    createdAt: 0,
    ...overrides,
  };
}
