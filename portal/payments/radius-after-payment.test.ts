import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { addNasClient } from '../../appliance/nas/nas-clients.js';
import { StoreAccessPolicy } from '../../appliance/sessions/access-policy.js';
import { decodePacket } from '../../radius/protocol/codec.js';
import { startRadiusServer } from '../../radius/server.js';
import { accessRequest, TestClient } from '../../radius/test-packets.js';
import { TEST_CARDS } from '../stripe-fake/fake-cards.js';
import { startPaymentsWorld } from './payments-harness.js';

const SECRET = Buffer.from('radius-secret-for-payments');

test('after a paid one-off plan, the guest’s RADIUS Access-Request is accepted with the plan’s Session-Timeout', async (t) => {
  const world = await startPaymentsWorld(t);
  const { store } = world.appliance;
  await addNasClient(store, systemClock, {
    name: 'nas',
    source: '127.0.0.1',
    secret: SECRET.toString(),
    dialect: 'generic',
  });
  const radius = await startRadiusServer({
    config: { ...world.config.radius, listen: ['127.0.0.1'], authPort: 0, acctPort: 0, rejectDelayMs: 0 },
    store,
    clock: systemClock,
    logger: silentLogger,
    policy: new StoreAccessPolicy({
      store,
      clock: systemClock,
      verifyPassword: (password, hash) => bcrypt.compare(password, hash),
      passwordCacheSeconds: 0,
    }),
  });
  const client = await TestClient.open();
  t.after(async () => {
    await client.close();
    await radius.close();
  });
  const guest = await world.guest();
  let identifier = 0;
  const ask = async () => {
    identifier += 1;
    const reply = await client.exchange(
      accessRequest({ identifier, secret: SECRET, userName: guest.email, password: guest.password }),
      radius.authPort,
      10_000,
    );
    assert.ok(reply, 'the RADIUS server answered');
    return decodePacket(reply)!;
  };

  assert.equal((await ask()).code, 'Access-Reject', 'nothing bought yet');

  const response = await world.appliance.app.inject({
    method: 'POST',
    url: '/api/v1/payments/checkout',
    headers: { authorization: `Bearer ${guest.token}` },
    payload: { planId: world.plans.hour.id },
  });
  const { url } = response.json() as { url: string };
  assert.ok(world.fake.payCheckout(url.split('/').pop()!, TEST_CARDS.success).ok);
  await world.fake.webhooksIdle();

  const accepted = await ask();
  assert.equal(accepted.code, 'Access-Accept');
  const timeout = Number(accepted.attributes['Session-Timeout']);
  assert.ok(timeout > 3590 && timeout <= 3600, `Session-Timeout ${timeout}`);
});
