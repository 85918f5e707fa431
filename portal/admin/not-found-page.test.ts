import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthHarness } from '../auth/auth-test-harness.js';
import { FormClient } from '../testing/form-client.js';
import { consoleStaff } from './console-test-kit.js';

test('an unknown /admin path is the console’s own 404 page: signed in, the layout with a way back; signed out, the sign-in page first', async (t) => {
  const h = await startAuthHarness({ withGuestJourney: true });
  t.after(() => h.close());

  const stranger = new FormClient(h.app);
  const anonymous = await stranger.get('/admin/no-such-page');
  assert.equal(anonymous.statusCode, 303);
  assert.equal(anonymous.headers.location, '/admin/login?next=%2Fadmin%2Fno-such-page');

  const operator = await consoleStaff(h, 'operator');
  for (const path of ['/admin/no-such-page', '/admin/sessions/a/b/c', '/admin/%3Cscript%3Ealert(1)%3C%2Fscript%3E']) {
    const page = await operator.browser.get(path);
    assert.equal(page.statusCode, 404, path);
    assert.match(String(page.headers['content-type']), /^text\/html/, `${path} is a page, not JSON`);
    assert.match(page.body, /<h1>Not found<\/h1>/);
    assert.match(page.body, /<nav aria-label="Console">/, 'the signed-in layout');
    assert.match(page.body, /<a href="\/admin">/, 'a way back to the dashboard');
    assert.doesNotMatch(page.body, /<script>alert/, 'the path is text, never markup');
  }
  const posted = await operator.browser.post('/admin/no-such-form', {});
  assert.equal(posted.statusCode, 404);
  assert.match(String(posted.headers['content-type']), /^text\/html/);

  assert.equal((await operator.browser.get('/admin/sessions')).statusCode, 200, 'real pages still win');
  const api = await h.app.inject({ method: 'GET', url: '/api/v1/no-such-route' });
  assert.equal(api.statusCode, 404);
  assert.equal(api.json().error.code, 'TP_ERR_NOT_FOUND', 'the API keeps its JSON 404');
});
