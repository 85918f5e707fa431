import { normaliseEmail } from '../accounts/email.js';
import type { Device, Session, Subscription, User } from '../domain/model.js';
import { ownerKeyOf } from '../entitlements/entitlement.js';
import { CollectionIndex, type IndexSource } from './collection-index.js';

/** The lookups made per packet or per guest request: one set per store, shared by RADIUS, the portal and the API. */
export class SessionIndexes {
  readonly usersByEmail: CollectionIndex<User>;
  readonly devicesByMac: CollectionIndex<Device>;
  readonly devicesByOwner: CollectionIndex<Device>;
  readonly subscriptionsByOwner: CollectionIndex<Subscription>;
  readonly sessionsByOwner: CollectionIndex<Session>;
  readonly sessionsByNas: CollectionIndex<Session>;
  /** Live sessions by client address: the portal's connect, log-out, status page and captive probes. */
  readonly sessionsByIp: CollectionIndex<Session>;

  constructor(source: IndexSource) {
    this.usersByEmail = new CollectionIndex<User>(source, 'users', (user) => normaliseEmail(user.email));
    this.devicesByMac = new CollectionIndex<Device>(source, 'devices', (device) => device.mac || null);
    this.devicesByOwner = new CollectionIndex<Device>(source, 'devices', (device) => device.ownerKey);
    this.subscriptionsByOwner = new CollectionIndex<Subscription>(source, 'subscriptions', (subscription) =>
      ownerKeyOf(subscription),
    );
    this.sessionsByOwner = new CollectionIndex<Session>(source, 'sessions', (session) => session.ownerKey);
    this.sessionsByNas = new CollectionIndex<Session>(source, 'sessions', (session) => session.nasId);
    this.sessionsByIp = new CollectionIndex<Session>(source, 'sessions', (session) => session.ip);
  }
}

const perSource = new WeakMap<IndexSource, SessionIndexes>();

/** The indexes over `source`'s current state, made at the first call and kept current by its changes. */
export function sessionIndexesOf(source: IndexSource): SessionIndexes {
  let indexes = perSource.get(source);
  if (!indexes) {
    indexes = new SessionIndexes(source);
    perSource.set(source, indexes);
  }
  return indexes;
}
