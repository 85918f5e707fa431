import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPortalFoundation } from '../app.js';
import { bearer, signedInAs, startAuthHarness } from '../auth/auth-test-harness.js';
import { validateConfig } from '../../appliance/config/load-config.js';
import { silentLogger } from '../../shared/logger.js';
import { createMetrics } from '../../appliance/metrics.js';
import { RouteWithoutAccessRuleError } from '../plugins/access-control.js';

test('every route of the full portal declares the roles it admits or that it is public', async () => {
  const h = await startAuthHarness({ withGuestJourney: true });
  try {
    const table = h.app.routeTable;
    assert.ok(table.length > 20, `the full portal has its routes (${table.length})`);
    const undeclared = table.filter((route) => !route.public && !(route.roles && route.roles.length > 0));
    assert.deepEqual(undeclared, []);
    for (const url of ['/api/v1/auth/login', '/api/v1/me', '/api/v1/users', '/api/v1/users/:id', '/auth/logout']) {
      assert.ok(
        table.some((route) => route.url === url),
        `${url} is in the table`,
      );
    }
    const users = table.filter((route) => route.url.startsWith('/api/v1/users'));
    assert.ok(
      users.every((route) => !route.public && !route.roles!.includes('guest')),
      'user admin is staff only',
    );
    assert.ok(
      users
        .filter((route) => route.method !== 'GET' && route.method !== 'HEAD')
        .every((route) => route.roles!.join() === 'admin'),
      'only admins change users',
    );
    const console = table.filter((route) => route.url === '/admin' || route.url.startsWith('/admin/'));
    assert.ok(console.length > 25, `the console's pages and forms are in the table (${console.length})`);
    assert.deepEqual(
      console.filter((route) => route.public && route.method !== 'HEAD').map((route) => `${route.method} ${route.url}`),
      ['GET /admin/login', 'POST /admin/login', 'GET /admin/login/code', 'POST /admin/login/code'],
      'only the sign-in forms are public',
    );
    assert.ok(
      console.every((route) => route.public || !route.roles!.includes('guest')),
      'no console page admits a guest',
    );
    for (const url of ['/admin/plans', '/admin/nas', '/admin/audit', '/api/v1/nas', '/api/v1/audit']) {
      assert.ok(
        table.filter((route) => route.url === url).every((route) => route.roles!.join() === 'admin'),
        `${url} is admin only`,
      );
    }
  } finally {
    await h.close();
  }
});

test('registering a route that declares no roles throws', async () => {
  const app = await buildPortalFoundation({
    config: validateConfig({ logLevel: 'silent' }, 'test'),
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
    authenticator: { authenticate: async () => null },
    readiness: [],
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
  });
  assert.throws(() => app.get('/naked', async () => 'hello'), RouteWithoutAccessRuleError);
  assert.throws(
    () => app.post('/empty-roles', { config: { roles: [] } }, async () => 'hello'),
    RouteWithoutAccessRuleError,
  );
  await app.close();
});

test('a guest cannot reach user management; staff can read, only admins write', async () => {
  const h = await startAuthHarness();
  try {
    const guest = await signedInAs(h, 'guest');
    const operator = await signedInAs(h, 'operator');
    const admin = await signedInAs(h, 'admin');
    for (const [method, url] of [
      ['GET', '/api/v1/users'],
      ['GET', `/api/v1/users/${guest.userId}`],
      ['POST', '/api/v1/users'],
      ['PATCH', `/api/v1/users/${guest.userId}`],
    ] as const) {
      const payload =
        method === 'POST'
          ? { email: 'z@example.test', role: 'admin' }
          : method === 'PATCH'
            ? { role: 'admin' }
            : undefined;
      const asGuest = await h.app.inject({
        method,
        url,
        headers: bearer(guest.tokens),
        ...(payload ? { payload } : {}),
      });
      assert.equal(asGuest.statusCode, 403, `${method} ${url} as guest`);
      assert.equal(asGuest.json().error.code, 'TP_ERR_FORBIDDEN');
      const anonymous = await h.app.inject({ method, url, ...(payload ? { payload } : {}) });
      assert.equal(anonymous.statusCode, 401, `${method} ${url} anonymous`);
    }
    assert.equal(h.store.db.users[guest.userId]!.role, 'guest', 'the guest did not promote itself');
    assert.equal(
      (await h.app.inject({ url: `/api/v1/users/${guest.userId}`, headers: bearer(operator.tokens) })).statusCode,
      200,
    );
    const promote = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${guest.userId}`,
      headers: bearer(admin.tokens),
      payload: { role: 'operator' },
    });
    assert.equal(promote.json().role, 'operator');
    const promotedMe = await h.app.inject({ url: '/api/v1/users', headers: bearer(guest.tokens) });
    assert.equal(promotedMe.json().error.code, 'TP_ERR_MFA_REQUIRED', 'a promoted guest must enrol MFA first');
    const emptyPatch = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${guest.userId}`,
      headers: bearer(admin.tokens),
      payload: {},
    });
    assert.equal(emptyPatch.statusCode, 400);
  } finally {
    await h.close();
  }
});

test('the OpenAPI document describes every auth route with closed input schemas and output schemas', async () => {
  const h = await startAuthHarness();
  try {
    const doc = (await h.app.inject({ url: '/api/v1/openapi.json' })).json() as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean } }> };
            responses: Record<string, unknown>;
          }
        >
      >;
    };
    assert.match(doc.openapi, /^3\./);
    for (const path of [
      '/api/v1/auth/register',
      '/api/v1/auth/login',
      '/api/v1/auth/mfa',
      '/api/v1/auth/refresh',
      '/api/v1/auth/logout',
      '/api/v1/auth/password-reset',
      '/api/v1/auth/password-reset/confirm',
      '/api/v1/me',
      '/api/v1/users',
      '/api/v1/users/{id}',
    ]) {
      const operations = doc.paths[path];
      assert.ok(operations, `${path} is documented`);
      for (const [method, operation] of Object.entries(operations)) {
        const success = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
        assert.ok(success.length > 0, `${method} ${path} documents its success response`);
        const input = operation.requestBody?.content['application/json']?.schema;
        if (input) assert.equal(input.additionalProperties, false, `${method} ${path} refuses unknown fields`);
      }
    }
  } finally {
    await h.close();
  }
});
