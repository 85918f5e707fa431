import type { TestContext } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import type { Plan } from '../domain/model.js';
import { GuestAccess } from '../guest-access/guest-access.js';
import { createPlan } from '../plans/plans.js';
import { MemoryAccessPort } from '../provisioning/access-port.js';
import { SessionEnforcer, type DynamicAuthorizationPort } from '../sessions/enforcer.js';
import { grantSubscription } from '../subscriptions/subscriptions.js';
import { tempStore } from './temp-store.js';

/** The configured time a plan without an end gets per session (`gateway.openEndedSessionSeconds`). */
export const OPEN_ENDED_SECONDS = 7200;

/** Gateway mode has no NAS: any call to one is a fault in the code under test. */
const noNas: DynamicAuthorizationPort = {
  disconnect: () => Promise.reject(new Error('a gateway session has no NAS')),
  changeAuthorization: () => Promise.reject(new Error('a gateway session has no NAS')),
};

/**
 * A venue in gateway mode, as the domain sees it: a store, a clock, the firewall (a memory access
 * port), guest access and the one enforcer every cause goes through. `pay` gives a user a plan,
 * `connect` brings guest n online (MAC aa:bb:cc:00:00:0n, IP 10.1.0.(4+n)).
 */
export async function gatewayVenue(t: TestContext, options: { now?: number } = {}) {
  const store = await tempStore(t);
  const clock = new ManualClock(options.now);
  const accessPort = new MemoryAccessPort({ clock });
  const access = new GuestAccess({
    store,
    clock,
    accessPort,
    logger: silentLogger,
    interimIntervalSeconds: 300,
    openEndedSeconds: OPEN_ENDED_SECONDS,
  });
  const enforcer = new SessionEnforcer({
    store,
    clock,
    port: noNas,
    logger: silentLogger,
    gateway: { accessPort, openEndedSeconds: OPEN_ENDED_SECONDS },
  });

  const plan = (input: Parameters<typeof createPlan>[2]): Promise<Plan> => createPlan(store, clock, input);
  const pay = (planRecord: Plan, userId = 'u1') =>
    grantSubscription(store, clock, {
      userId,
      voucherCode: null,
      plan: planRecord,
      source: 'payment',
      sourceRef: null,
    });
  const ipOf = (guest: number) => `10.1.0.${4 + guest}`;
  const connect = async (guest = 1, userId = `u${guest}`) => {
    const connected = await access.connect({
      ownerKey: `user:${userId}`,
      mac: `aa:bb:cc:00:00:${String(guest).padStart(2, '0')}`,
      ip: ipOf(guest),
      deviceId: null,
      mode: 'gateway',
    });
    if (connected.mode !== 'gateway') throw new Error('a gateway venue connected a guest in NAS mode');
    return connected.session;
  };
  return { store, clock, accessPort, access, enforcer, plan, pay, connect, ipOf };
}
