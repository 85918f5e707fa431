import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startAuthHarness, TEST_PASSWORD } from '../auth/auth-test-harness.js';

interface Operation {
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, { maxLength?: number }> } }> };
}

test('the OpenAPI document says which routes need a token, and every route behaves as it says', async () => {
  const h = await startAuthHarness({ withGuestJourney: true });
  try {
    const doc = (await h.app.inject({ url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    const documented = new Set<string>();
    let anonymous = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
        const open = Array.isArray(operation.security) && operation.security.length === 0;
        if (open) anonymous += 1;
        const url = path.replace(/\{\w+\}/g, 'x');
        const response = await h.app.inject({ method: method.toUpperCase() as 'GET', url, payload: {} });
        if (open) {
          assert.notEqual(response.statusCode, 401, `${method} ${path} is documented as anonymous`);
        } else {
          assert.ok(
            operation.security?.some((requirement) => 'bearer' in requirement),
            `${method} ${path}`,
          );
          assert.equal(response.statusCode, 401, `${method} ${path} is documented as needing a bearer token`);
        }
      }
    }
    assert.ok(anonymous >= 5, 'sign-in, registration, refresh, logout, reset are anonymous');
    const logout = doc.paths['/api/v1/auth/logout']!.post!;
    assert.deepEqual(logout.security, [], 'logout takes no token it requires');
    const routes = h.app.routeTable.filter(
      (route) => route.url.startsWith('/api/v1/') && route.method !== 'HEAD' && route.url !== '/api/v1/openapi.json',
    );
    for (const route of routes)
      assert.ok(documented.has(`${route.method} ${route.url}`), `${route.method} ${route.url}`);
  } finally {
    await h.close();
  }
});

test('the documented password limit is the enforced one, and validation names the field', async () => {
  const h = await startAuthHarness();
  try {
    const doc = (await h.app.inject({ url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    const register = doc.paths['/api/v1/auth/register']!.post!;
    const limit = register.requestBody!.content['application/json']!.schema.properties!.password!.maxLength!;
    assert.equal(limit, 72);
    const atLimit = await postJson(h.app, '/api/v1/auth/register', {
      email: 'limit@example.test',
      password: `${TEST_PASSWORD} `.repeat(3).slice(0, limit),
    });
    assert.equal(atLimit.statusCode, 202, atLimit.body);
    const over = await postJson(h.app, '/api/v1/auth/register', {
      email: 'over@example.test',
      password: 'x'.repeat(limit + 1),
    });
    assert.equal(over.statusCode, 400);
    assert.equal(over.json().error.message, 'body: password: must NOT have more than 72 characters');
    const missing = await postJson(h.app, '/api/v1/auth/register', { password: TEST_PASSWORD });
    assert.equal(missing.json().error.message, 'body: email: required');
    const unknown = await postJson(h.app, '/api/v1/auth/register', {
      email: 'u@example.test',
      password: TEST_PASSWORD,
      admin: true,
    });
    assert.equal(unknown.json().error.message, 'body: admin: not a known field');
  } finally {
    await h.close();
  }
});

test('the payment webhook is documented as anonymous, as it is (the signature is its credential)', async (t) => {
  const { startPaymentsWorld } = await import('../payments/payments-harness.js');
  const world = await startPaymentsWorld(t);
  const { app } = world.appliance;
  const doc = (await app.inject({ url: '/api/v1/openapi.json' })).json() as {
    paths: Record<string, Record<string, Operation>>;
  };
  const webhook = doc.paths['/api/v1/payments/webhook']!.post!;
  assert.deepEqual(webhook.security, []);
  const unsigned = await app.inject({ method: 'POST', url: '/api/v1/payments/webhook', payload: {} });
  assert.notEqual(unsigned.statusCode, 401);
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.security?.length === 0) continue;
      const response = await app.inject({ method: method.toUpperCase() as 'GET', url: path.replace(/\{\w+\}/g, 'x') });
      assert.equal(response.statusCode, 401, `${method} ${path} is documented as needing a bearer token`);
    }
  }
});
