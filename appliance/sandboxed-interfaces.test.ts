import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import Fastify from 'fastify';
import { tolerateDeniedInterfaceList } from './sandboxed-interfaces.js';

/** What libuv reports when the unit's RestrictAddressFamilies= refuses the netlink socket. */
function deniedInterfaceList(): never {
  throw Object.assign(new Error('uv_interface_addresses returned Unknown system error 97'), {
    code: 'ERR_SYSTEM_ERROR',
    syscall: 'uv_interface_addresses',
    info: { errno: 97, syscall: 'uv_interface_addresses' },
  });
}

test('a portal listening on 0.0.0.0 starts where the sandbox denies listing the interfaces', async (t) => {
  const real = os.networkInterfaces;
  t.after(() => {
    os.networkInterfaces = real;
  });
  os.networkInterfaces = deniedInterfaceList;
  tolerateDeniedInterfaceList();
  assert.deepEqual(os.networkInterfaces(), {}, 'an empty list, not a thrown error');

  const app = Fastify({ logger: false });
  app.get('/healthz', () => ({ ok: true }));
  await app.listen({ host: '0.0.0.0', port: 0 });
  t.after(() => app.close());
  const port = (app.server.address() as { port: number }).port;
  const reply = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(reply.status, 200);
});

test('other failures to list the interfaces still throw', (t) => {
  const real = os.networkInterfaces;
  t.after(() => {
    os.networkInterfaces = real;
  });
  os.networkInterfaces = () => {
    throw new Error('something else');
  };
  tolerateDeniedInterfaceList();
  assert.throws(() => os.networkInterfaces(), /something else/);
});
