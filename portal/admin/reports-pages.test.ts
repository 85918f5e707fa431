import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountingCsv } from '../../appliance/console/report-csv.js';
import { createPlan } from '../../appliance/plans/plans.js';
import { recordAccounting, type AccountingEvent } from '../../appliance/sessions/accounting.js';
import type { History, Store } from '../../appliance/store/store.js';
import { grantSubscription } from '../../appliance/subscriptions/subscriptions.js';
import { createVoucherBatch } from '../../appliance/vouchers/batches.js';
import { redeemVoucher } from '../../appliance/vouchers/redeem.js';
import { startAuthHarness, type AuthHarness } from '../auth/auth-test-harness.js';
import { consoleStaff } from './console-test-kit.js';

const EVIL = '=HYPERLINK("http://x")<script>alert(1)</script>';

async function withConsole(run: (h: AuthHarness) => Promise<void>): Promise<void> {
  const h = await startAuthHarness({ withGuestJourney: true });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

function event(overrides: Partial<AccountingEvent>): AccountingEvent {
  return {
    nasId: 'nas-1',
    status: 'interim',
    acctSessionId: 'a1',
    subscriptionId: null,
    mac: '02:00:00:00:00:01',
    ip: '10.1.0.2',
    inputOctets: 0,
    outputOctets: 0,
    sessionTime: 0,
    terminateCause: null,
    interimIntervalSeconds: 60,
    ...overrides,
  };
}

/** A day of traffic: a signed-up guest with a script in their name, a voucher guest, a paid-for plan. */
async function trafficOf(h: AuthHarness) {
  const plan = await createPlan(h.store, h.clock, { name: `Day <b>pass</b>`, priceMinor: 500, currency: 'EUR' });
  await h.store.update((db) => {
    db.nasClients['nas-1'] = {
      id: 'nas-1',
      name: `Lobby ${EVIL}`,
      source: '10.9.0.1',
      secret: 's3cret-s3cret',
      dialect: 'generic',
      coaPort: 3799,
      requireMessageAuthenticator: true,
      createdAt: h.clock.now(),
    };
  });
  const guest = await h.auth.accounts.users.createUser(
    { email: 'guest+<script>@example.test', role: 'guest', displayName: EVIL },
    null,
  );
  const paid = await grantSubscription(h.store, h.clock, {
    userId: guest.user.id,
    voucherCode: null,
    plan,
    source: 'staff-grant',
    sourceRef: null,
  });
  const { codes } = await createVoucherBatch(h.store, h.clock, {
    planId: plan.id,
    count: 1,
    note: 'Front desk',
    createdBy: 'test',
  });
  const voucher = await redeemVoucher(h.store, h.clock, { code: codes[0]!, mac: '02:00:00:00:00:02' });
  await recordAccounting(h.store, h.clock, event({ status: 'start', subscriptionId: paid.id, acctSessionId: EVIL }));
  await recordAccounting(
    h.store,
    h.clock,
    event({ subscriptionId: paid.id, acctSessionId: EVIL, inputOctets: 3_000_000, outputOctets: 40_000_000 }),
  );
  await recordAccounting(
    h.store,
    h.clock,
    event({ status: 'start', acctSessionId: 'b2', subscriptionId: voucher.id, mac: '02:00:00:00:00:02' }),
  );
  await recordAccounting(
    h.store,
    h.clock,
    event({
      acctSessionId: 'b2',
      subscriptionId: voucher.id,
      mac: '02:00:00:00:00:02',
      inputOctets: 1_000,
      outputOctets: 2_000,
    }),
  );
  return { plan, guest, code: codes[0]! };
}

test('an admin reads usage, top guests and redemptions as charts and tables, guest text escaped; an operator gets 403', async () => {
  await withConsole(async (h) => {
    const { guest, code } = await trafficOf(h);
    const admin = await consoleStaff(h, 'admin');
    const page = await admin.browser.get('/admin/reports');
    assert.equal(page.statusCode, 200, page.body);
    const html = page.body;
    assert.match(html, /<h1>Reports/);
    assert.match(html, /href="\/admin\/reports" aria-current="page"/, 'the nav leads there');
    assert.doesNotMatch(html, /<script>alert/, 'no guest or NAS text is markup');
    assert.doesNotMatch(html, /<b>pass<\/b>/);
    assert.match(html, /Lobby =HYPERLINK\(&quot;http:\/\/x&quot;\)&lt;script&gt;/);
    assert.match(html, /guest\+&lt;script&gt;@example\.test/);
    assert.match(html, new RegExp(`href="/admin/people/${guest.user.id}"`), 'a top guest links to their page');
    assert.match(html, new RegExp(code), 'a voucher guest is named by the code');
    assert.match(
      html,
      /<table data-chart="usage" class="report">/,
      'the chart is drawn from the table that is also the no-JS view',
    );
    assert.match(html, /data-v="40002000"/, 'downloaded octets of the day');
    assert.match(html, /<script src="\/admin\/assets\/uplot\.min\.js" defer><\/script>/);
    assert.match(html, /Front desk/, 'redemptions by batch');

    const day = /name="to" type="date" value="(\d{4}-\d{2}-\d{2})"/.exec(html)![1]!;
    const top = await admin.browser.get(`/admin/reports/export/top-guests?from=${day}&to=${day}&day=${day}`);
    assert.equal(top.statusCode, 200);
    assert.match(String(top.headers['content-type']), /^text\/csv/);
    assert.match(String(top.headers['content-disposition']), /attachment; filename="top-guests-/);
    assert.equal(
      top.body,
      `day,rank,guest,octets\r\n${day},1,guest+<script>@example.test,43000000\r\n${day},2,${code},3000\r\n`,
    );
    const nas = await admin.browser.get('/admin/reports/export/usage-nas');
    assert.match(nas.body, /^nas,id,sessions,input_octets,output_octets\r\n/);
    assert.match(
      nas.body,
      /\r\n"Lobby =HYPERLINK\(""http:\/\/x""\)<script>alert\(1\)<\/script>",nas-1,2,3001000,40002000\r\n/,
    );
    const days = await admin.browser.get('/admin/reports/export/usage-days');
    assert.match(days.body, new RegExp(`\\r\\n${day},2,3001000,40002000\\r\\n$`));
    assert.equal((await admin.browser.get('/admin/reports/export/nope')).statusCode, 404);

    const raw = await admin.browser.get(`/admin/reports/export/accounting?from=${day}&to=${day}`);
    assert.equal(raw.statusCode, 200);
    const rows = raw.body.trimEnd().split('\r\n');
    assert.equal(rows.length, 5, 'a header and the four accounting updates of the day');
    assert.match(
      rows[2]!,
      /,interim,"'=HYPERLINK\(""http:\/\/x""\)<script>alert\(1\)<\/script>",/,
      'formulas are defused',
    );
    const before = await admin.browser.get('/admin/reports/export/accounting?from=2020-01-01&to=2020-01-02');
    assert.equal(before.body.trimEnd().split('\r\n').length, 1, 'a range without records has only the header');

    const operator = await consoleStaff(h, 'operator');
    for (const url of ['/admin/reports', '/admin/reports/export/usage-days', '/admin/reports/export/accounting']) {
      const refused = await operator.browser.get(url);
      assert.equal(refused.statusCode, 403, url);
      assert.match(refused.body, /Your role \(operator\) does not open this page/);
    }
    assert.doesNotMatch((await operator.browser.get('/admin')).body, /href="\/admin\/reports"/);
  });
});

test('the reports and the dashboard with their scripts weigh under 150 KB, served from the box', async () => {
  await withConsole(async (h) => {
    await trafficOf(h);
    const admin = await consoleStaff(h, 'admin');
    const dashboard = await admin.browser.get('/admin');
    assert.match(dashboard.body, /Sessions and traffic, last 24 hours/);
    assert.match(dashboard.body, /Sessions and traffic, last 30 days/);
    assert.equal((dashboard.body.match(/<table data-chart="usage" class="report">/g) ?? []).length, 2);
    let scripts = 0;
    for (const asset of ['uplot.min.js', 'uplot.min.css', 'console-charts.js']) {
      const res = await admin.browser.get(`/admin/assets/${asset}`);
      assert.equal(res.statusCode, 200, asset);
      assert.match(String(res.headers['content-type']), asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      scripts += res.rawPayload.length;
    }
    assert.equal((await admin.browser.get('/admin/assets/..%2Fadmin.css')).statusCode, 404);
    for (const page of [dashboard, await admin.browser.get('/admin/reports')]) {
      const weight = page.rawPayload.length + scripts;
      assert.ok(weight <= 150_000, `page weight ${weight} bytes`);
    }
    const german = await admin.browser.get('/admin/reports?lang=de');
    assert.match(german.body, /<h1>Berichte/);
    assert.match(german.body, /Nutzung pro Tag/);
  });
});

/** The real store, except that its accounting history never ends: as long as an export that streams may be. */
function withEndlessAccounting(store: Store, first: number): Store {
  const endless: History = {
    append: () => Promise.reject(new Error('read-only')),
    readAll: () => Promise.reject(new Error('an endless history cannot be read whole')),
    readSince: () => Promise.reject(new Error('an endless history cannot be read whole')),
    findLast: () => Promise.reject(new Error('an endless history cannot be read whole')),
    async *stream() {
      for await (const line of store.history('accounting').stream()) yield line;
      for (let n = 0; ; n += 1) {
        yield { ...event({ acctSessionId: `x${n}`, inputOctets: n }), at: first + n, sessionId: `nas-1/x${n}` };
      }
    },
  };
  return new Proxy(store, {
    get: (target, key) =>
      key === 'history'
        ? (name: string) => (name === 'accounting' ? endless : target.history(name as never))
        : Reflect.get(target, key),
  });
}

test('a raw accounting export is written while the history is read, a chunk at a time', async () => {
  await withConsole(async (h) => {
    await trafficOf(h);
    const start = h.clock.now();
    const csv = accountingCsv(withEndlessAccounting(h.store, start), start - 86_400_000, Number.MAX_SAFE_INTEGER);
    const first = await csv.next();
    assert.equal(first.done, false);
    assert.match(
      first.value as string,
      /^at,nas,status,acct_session_id,/,
      'the first bytes leave before the last line is read',
    );
    assert.equal((first.value as string).split('\r\n').length, 2, 'the header leaves on its own, at once');
    const lines = ((await csv.next()).value as string).trimEnd().split('\r\n');
    assert.ok(lines.length > 200 && lines.length < 300, `then a chunk is a few hundred lines (${lines.length})`);
    let largest = 0;
    for (let chunk = 0; chunk < 1_000; chunk += 1)
      largest = Math.max(largest, ((await csv.next()).value as string).length);
    await csv.return(undefined);
    assert.ok(
      largest < 64 * 1024,
      `a quarter of a million lines on, each chunk is still small (${largest} characters)`,
    );
  });
});
