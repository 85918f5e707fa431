import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { FormClient } from '../testing/form-client.js';
import { startGuestPortal } from '../testing/guest-portal-harness.js';

function patch(app: FastifyInstance, token: string, payload: Record<string, unknown>) {
  return app.inject({
    method: 'PATCH',
    url: '/api/v1/settings',
    headers: { authorization: `Bearer ${token}` },
    payload,
  });
}

test('an admin renames the venue and the landing page shows the new name at once, escaped', async (t) => {
  const h = await startGuestPortal(t);
  const admin = await h.tokenFor('admin');
  const guest = new FormClient(h.app, { headers: { 'accept-language': 'de' } });
  const before = await guest.get('/portal');
  assert.match(before.body, /Turnpike Wi-Fi/, 'the cached landing page has the old name');

  const res = await patch(h.app, admin, {
    venueName: '<b>Café & Bar</b>',
    primaryColor: '#123abc',
    welcomeText: { en: 'Hello, guest', de: 'Hallo, Gast <i>' },
    seller: { name: 'Café GmbH', taxRatePercent: 19 },
  });
  assert.equal(res.statusCode, 200, res.body);
  const saved = res.json();
  assert.equal(saved.venueName, '<b>Café & Bar</b>');
  assert.deepEqual(saved.seller, { name: 'Café GmbH', address: '', taxId: '', taxRatePercent: 19 });
  assert.deepEqual(saved.welcomeText, { en: 'Hello, guest', de: 'Hallo, Gast <i>' });

  const after = await guest.get('/portal');
  assert.ok(!after.body.includes('Turnpike Wi-Fi'), 'the render cache was dropped');
  assert.match(after.body, /<a class="venue" href="\/portal">&lt;b&gt;Caf[ée] &amp; Bar&lt;\/b&gt;<\/a>/);
  assert.ok(!after.body.includes('<b>Café'), 'the name is text, not markup');
  assert.match(after.body, /<h1>Hallo, Gast &lt;i&gt;<\/h1>/);
  assert.match(after.body, /--p:#123abc/);

  const audit = await h.store.history('audit').readAll();
  const entry = audit.find((record) => record.action === 'settings.updated') as
    { before: Record<string, unknown>; after: Record<string, unknown> } | undefined;
  assert.ok(entry, 'the change is audited');
  assert.deepEqual(Object.keys(entry.after), ['venueName', 'primaryColor', 'welcomeText', 'seller'], 'what changed');
  assert.equal(entry.before.venueName, 'Turnpike Wi-Fi');
  assert.equal(entry.after.venueName, '<b>Café & Bar</b>');
});

test('operators read the settings, only admins change them, guests do neither', async (t) => {
  const h = await startGuestPortal(t);
  const operator = await h.tokenFor('operator');
  const guest = await h.tokenFor('guest');
  const read = await h.app.inject({ url: '/api/v1/settings', headers: { authorization: `Bearer ${operator}` } });
  assert.equal(read.statusCode, 200);
  assert.deepEqual(Object.keys(read.json()).sort(), [
    'accentColor',
    'logoUrl',
    'primaryColor',
    'seller',
    'supportContact',
    'termsText',
    'timeZone',
    'venueName',
    'welcomeText',
  ]);
  assert.equal((await patch(h.app, operator, { venueName: 'Mine' })).statusCode, 403);
  const asGuest = await h.app.inject({ url: '/api/v1/settings', headers: { authorization: `Bearer ${guest}` } });
  assert.equal(asGuest.statusCode, 403);
  assert.equal((await h.app.inject({ url: '/api/v1/settings' })).statusCode, 401);
  assert.equal(h.store.db.settings.venueName, 'Turnpike Wi-Fi');
});

test('bad settings are refused with the field named, and nothing changes', async (t) => {
  const h = await startGuestPortal(t);
  const admin = await h.tokenFor('admin');
  const before = structuredClone(h.store.db.settings);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ logoUrl: 'https://cdn.example.com/logo.png' }, /logoUrl/],
    [{ logoUrl: 'javascript:alert(1)' }, /logoUrl/],
    [{ logoUrl: 'data:text/html;base64,PHNjcmlwdD4=' }, /logoUrl/],
    [{ primaryColor: 'red;background:url(x)' }, /primaryColor/],
    [{ accentColor: '#12345' }, /accentColor/],
    [{ termsText: { english: 'x' } }, /termsText|english|property name/],
    [{ venueName: '   ' }, /venueName/],
    [{ seller: { taxRatePercent: 101 } }, /taxRatePercent/],
    [{ seller: { taxRatePercent: 19.125 } }, /taxRatePercent/],
    [{ seller: { iban: 'DE00' } }, /additional|iban/],
    [{ venueName: 'Fine', theme: 'dark' }, /additional|theme/],
    [{}, /fewer than 1|minProperties/],
  ];
  for (const [body, field] of cases) {
    const res = await patch(h.app, admin, body);
    assert.equal(res.statusCode, 400, `${JSON.stringify(body)} → ${res.body}`);
    assert.equal(res.json().error.code, 'TP_ERR_VALIDATION');
    assert.match(JSON.stringify(res.json().error), field, JSON.stringify(body));
  }
  assert.deepEqual(h.store.db.settings, before);
  const logo = await patch(h.app, admin, { logoUrl: 'data:image/png;base64,iVBORw0KGgo=', supportContact: 'desk' });
  assert.equal(logo.statusCode, 200, logo.body);
  const page = await new FormClient(h.app).get('/portal');
  assert.match(page.body, /<img src="data:image\/png;base64,iVBORw0KGgo=" alt="">/);
  assert.match(page.body, /Help: desk/);
});

test('the venue time zone is an IANA name; anything else is refused and names the field', async (t) => {
  const h = await startGuestPortal(t);
  const admin = await h.tokenFor('admin');
  const bad = await patch(h.app, admin, { timeZone: 'Mars/Olympus' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /timeZone: an IANA time zone/);
  const good = await patch(h.app, admin, { timeZone: 'Europe/Berlin' });
  assert.equal(good.statusCode, 200, good.body);
  assert.equal(h.store.db.settings.timeZone, 'Europe/Berlin');
});
