import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { requireSystem } from '../appliance/testing/system-tools.js';
import { attributeOf, radclient } from './radclient-driver.js';
import type { RadiusServer } from './server.js';
import { createFixture, startFixtureServer, PASSWORD, SECRET, type Fixture } from './test-fixtures.js';

const MA = 'Message-Authenticator = 0x00\n';

describe('RADIUS against FreeRADIUS radclient', () => {
  let fixture: Fixture;
  let server: RadiusServer;
  let auth: string;
  let acct: string;

  before(async () => {
    fixture = await createFixture();
    server = await startFixtureServer(fixture);
    auth = `127.0.0.1:${server.authPort}`;
    acct = `127.0.0.1:${server.acctPort}`;
  });
  after(async () => {
    await server?.close();
    await fixture?.close();
  });

  const needsRadclient = (t: TestContext): boolean => requireSystem(t, { tools: ['radclient'] });

  it('accepts an account password over PAP and puts the plan in the reply, Message-Authenticator first', async (t) => {
    if (!needsRadclient(t)) return;
    const result = await radclient(
      auth,
      'auth',
      SECRET,
      `User-Name = "Guest@Example.org"\nUser-Password = "${PASSWORD}"\nCalling-Station-Id = "02-00-00-00-00-09"\n${MA}`,
    );
    assert.equal(result.reply, 'Access-Accept', result.output);
    assert.equal(result.attributes[0]?.[0], 'Message-Authenticator');
    assert.ok(
      Number(attributeOf(result, 'Session-Timeout')) <= 3600 && Number(attributeOf(result, 'Session-Timeout')) > 3590,
    );
    assert.equal(attributeOf(result, 'Idle-Timeout'), '600');
    assert.equal(attributeOf(result, 'Acct-Interim-Interval'), '300');
    assert.equal(attributeOf(result, 'WISPr-Bandwidth-Max-Up'), '2000000');
    assert.equal(attributeOf(result, 'WISPr-Bandwidth-Max-Down'), '10000000');
    // 5 GiB = 1 Gigaword + 1 GiB: the low 32 bits and the wrap count travel separately.
    assert.equal(attributeOf(result, 'ChilliSpot-Max-Total-Octets'), String(2 ** 30));
    assert.equal(attributeOf(result, 'Attr-26.14559.23'), '0x00000001');
    assert.equal(Buffer.from(attributeOf(result, 'Class')!.slice(2), 'hex').toString(), 'tp1:sub-user');
  });

  it('rejects a wrong account password with a Reply-Message the guest can act on', async (t) => {
    if (!needsRadclient(t)) return;
    const result = await radclient(
      auth,
      'auth',
      SECRET,
      `User-Name = "guest@example.org"\nUser-Password = "wrong"\n${MA}`,
    );
    assert.equal(result.reply, 'Access-Reject');
    assert.equal(result.attributes[0]?.[0], 'Message-Authenticator');
    assert.match(attributeOf(result, 'Reply-Message')!, /wrong; check it and try again/);
  });

  it('accepts a portal one-time credential over CHAP once, only from the device it was minted for', async (t) => {
    if (!needsRadclient(t)) return;
    const body = (mac: string): string =>
      `User-Name = "pc-abc"\nCHAP-Password = "one-time-pass"\nCalling-Station-Id = "${mac}"\n${MA}`;
    const otherDevice = await radclient(auth, 'auth', SECRET, body('02-00-00-00-00-07'));
    assert.equal(otherDevice.reply, 'Access-Reject');
    const first = await radclient(auth, 'auth', SECRET, body('02:00:00:00:00:02'));
    assert.equal(first.reply, 'Access-Accept', first.output);
    assert.ok(fixture.store.db.portalCredentials['pc-abc']!.usedAt !== null);
    const again = await radclient(auth, 'auth', SECRET, body('02:00:00:00:00:02'));
    assert.equal(again.reply, 'Access-Reject');
    assert.match(attributeOf(again, 'Reply-Message')!, /already used/);
  });

  it('starts a voucher on its first use, over CHAP with a CHAP-Challenge', async (t) => {
    if (!needsRadclient(t)) return;
    const body = `User-Name = "TPVOUCHER1"\nCHAP-Password = "TPVOUCHER1"\nCHAP-Challenge = 0x0102030405060708090a0b0c0d0e0f10\nCalling-Station-Id = "0200.0000.0042"\n${MA}`;
    const result = await radclient(auth, 'auth', SECRET, body);
    assert.equal(result.reply, 'Access-Accept', result.output);
    const voucherSubscription = Object.values(fixture.store.db.subscriptions).find(
      (s) => s.voucherCode === 'TPVOUCHER1',
    );
    assert.ok(voucherSubscription, 'the voucher was redeemed');
    assert.equal(voucherSubscription.startedAt, fixture.clock.now());
    assert.equal(fixture.store.db.vouchers['TPVOUCHER1']!.uses, 1);
    assert.equal(
      Buffer.from(attributeOf(result, 'Class')!.slice(2), 'hex').toString(),
      `tp1:${voucherSubscription.id}`,
    );
    const wrong = await radclient(
      auth,
      'auth',
      SECRET,
      body.replace('CHAP-Password = "TPVOUCHER1"', 'CHAP-Password = "guess"'),
    );
    assert.equal(wrong.reply, 'Access-Reject');
  });

  it('accepts a remembered device by MAC in any notation, but not a MAC typed in from another device', async (t) => {
    if (!needsRadclient(t)) return;
    const ok = await radclient(
      auth,
      'auth',
      SECRET,
      `User-Name = "02-00-00-00-00-01"\nUser-Password = "02-00-00-00-00-01"\nCalling-Station-Id = "0200.0000.0001"\n${MA}`,
    );
    assert.equal(ok.reply, 'Access-Accept', ok.output);
    const spoof = await radclient(
      auth,
      'auth',
      SECRET,
      `User-Name = "020000000001"\nUser-Password = "x"\nCalling-Station-Id = "02-00-00-00-00-66"\n${MA}`,
    );
    assert.equal(spoof.reply, 'Access-Reject');
  });

  it('answers over IPv6 too', async (t) => {
    if (!needsRadclient(t)) return;
    const result = await radclient(
      `[::1]:${server.authPort}`,
      'auth',
      SECRET,
      `User-Name = "guest@example.org"\nUser-Password = "${PASSWORD}"\n${MA}`,
    );
    assert.equal(result.reply, 'Access-Accept', result.output);
  });

  it('runs the accounting life cycle: Start, Interim-Update with Gigawords, Stop into the history', async (t) => {
    if (!needsRadclient(t)) return;
    const before = fixture.store.db.subscriptions['sub-user']!.bytesUsed;
    const common = `Acct-Session-Id = "life-1"\nClass = "tp1:sub-user"\nCalling-Station-Id = "02-00-00-00-00-09"\nFramed-IP-Address = 10.1.0.9\n`;
    const start = await radclient(acct, 'acct', SECRET, `Acct-Status-Type = Start\n${common}`);
    assert.equal(start.reply, 'Accounting-Response', start.output);
    const session = Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'life-1');
    assert.ok(session, 'Start opened a session');
    assert.equal(session.ip, '10.1.0.9');
    const interim = await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Interim-Update\n${common}Acct-Input-Octets = 1000\nAcct-Output-Octets = 500\nAcct-Output-Gigawords = 1\nAcct-Session-Time = 60\n`,
    );
    assert.equal(interim.reply, 'Accounting-Response');
    assert.equal(fixture.store.db.subscriptions['sub-user']!.bytesUsed - before, 1500 + 2 ** 32);
    const stop = await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Stop\n${common}Acct-Input-Octets = 3000\nAcct-Output-Octets = 500\nAcct-Output-Gigawords = 1\nAcct-Session-Time = 120\nAcct-Terminate-Cause = User-Request\n`,
    );
    assert.equal(stop.reply, 'Accounting-Response');
    assert.equal(fixture.store.db.subscriptions['sub-user']!.bytesUsed - before, 3500 + 2 ** 32);
    assert.equal(
      Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'life-1'),
      undefined,
    );
    const closed = await fixture.store
      .history<{ acctSessionId: string; reason: string; terminateCause: number }>('closed-sessions')
      .readAll();
    const record = closed.find((entry) => entry.acctSessionId === 'life-1');
    assert.equal(record?.reason, 'stop');
    assert.equal(record?.terminateCause, 1);
    const accounting = await fixture.store.history<{ acctSessionId: string; status: string }>('accounting').readAll();
    assert.deepEqual(
      accounting.filter((entry) => entry.acctSessionId === 'life-1').map((entry) => entry.status),
      ['start', 'interim', 'stop'],
    );
  });

  it('puts the IPv6 address and prefixes of an IPv6-only client on its session', async (t) => {
    if (!needsRadclient(t)) return;
    const start = await radclient(
      acct,
      'acct',
      SECRET,
      'Acct-Status-Type = Start\nAcct-Session-Id = "v6-1"\nClass = "tp1:sub-user"\n' +
        'Framed-IPv6-Address = 2001:db8::5\nFramed-IPv6-Prefix = 2001:db8:1::/64\nDelegated-IPv6-Prefix = 2001:db8:200::/56\n',
    );
    assert.equal(start.reply, 'Accounting-Response', start.output);
    const session = Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'v6-1');
    assert.equal(session?.ip, '2001:db8::5');
    assert.deepEqual(session?.ipv6Prefixes, ['2001:db8:1::/64', '2001:db8:200::/56']);
  });

  it('closes every session of a NAS on Accounting-On', async (t) => {
    if (!needsRadclient(t)) return;
    await radclient(
      acct,
      'acct',
      SECRET,
      `Acct-Status-Type = Start\nAcct-Session-Id = "reboot-1"\nClass = "tp1:sub-user"\n`,
    );
    assert.ok(Object.values(fixture.store.db.sessions).some((s) => s.acctSessionId === 'reboot-1'));
    const on = await radclient(acct, 'acct', SECRET, `Acct-Status-Type = Accounting-On\nNAS-Identifier = "test-nas"\n`);
    assert.equal(on.reply, 'Accounting-Response');
    assert.equal(Object.values(fixture.store.db.sessions).filter((s) => s.nasId === fixture.nasId).length, 0);
  });

  it('answers Status-Server on both ports', async (t) => {
    if (!needsRadclient(t)) return;
    const onAuth = await radclient(auth, 'status', SECRET, MA);
    assert.equal(onAuth.reply, 'Access-Accept');
    const onAcct = await radclient(acct, 'status', SECRET, MA);
    assert.equal(onAcct.reply, 'Accounting-Response');
  });

  it('does not answer a wrong secret, on either port', async (t) => {
    if (!needsRadclient(t)) return;
    const dropped = server.stats.dropped['bad-message-authenticator'] ?? 0;
    const authResult = await radclient(
      auth,
      'auth',
      'not-the-secret',
      `User-Name = "guest@example.org"\nUser-Password = "${PASSWORD}"\n${MA}`,
    );
    assert.equal(authResult.reply, null);
    assert.equal(server.stats.dropped['bad-message-authenticator'], dropped + 1);
    const acctResult = await radclient(
      acct,
      'acct',
      'not-the-secret',
      `Acct-Status-Type = Start\nAcct-Session-Id = "forged"\n`,
    );
    assert.equal(acctResult.reply, null);
    assert.ok((server.stats.dropped['bad-request-authenticator'] ?? 0) >= 1);
    assert.equal(
      Object.values(fixture.store.db.sessions).find((s) => s.acctSessionId === 'forged'),
      undefined,
    );
  });

  it('does not answer an Access-Request without Message-Authenticator when the NAS requires one', async (t) => {
    if (!needsRadclient(t)) return;
    const result = await radclient(
      auth,
      'auth',
      SECRET,
      `User-Name = "guest@example.org"\nUser-Password = "${PASSWORD}"\n`,
    );
    assert.equal(result.reply, null);
    assert.ok((server.stats.dropped['missing-message-authenticator'] ?? 0) >= 1);
  });
});

describe('RADIUS reject delay and per-NAS settings', () => {
  it('delays an Access-Reject by rejectDelayMs, and accepts without Message-Authenticator when the NAS allows it', async (t) => {
    if (!requireSystem(t, { tools: ['radclient'] })) return;
    const fixture = await createFixture({
      requireMessageAuthenticator: false,
      radius: { rejectDelayMs: 400 },
      dialect: 'mikrotik',
    });
    const server = await startFixtureServer(fixture);
    try {
      const auth = `127.0.0.1:${server.authPort}`;
      const started = performance.now();
      const rejected = await radclient(auth, 'auth', SECRET, `User-Name = "nobody@example.org"\nUser-Password = "x"\n`);
      assert.equal(rejected.reply, 'Access-Reject');
      assert.ok(performance.now() - started >= 400, 'the reject waited');
      const accepted = await radclient(
        auth,
        'auth',
        SECRET,
        `User-Name = "guest@example.org"\nUser-Password = "${PASSWORD}"\n`,
      );
      assert.equal(accepted.reply, 'Access-Accept', accepted.output);
      const proxied = await radclient(
        auth,
        'auth',
        SECRET,
        `User-Name = "guest@example.org"\nUser-Password = "${PASSWORD}"\nProxy-State = 0x01020304\n`,
      );
      assert.equal(proxied.reply, null, 'Proxy-State without Message-Authenticator is dropped even here');
      assert.equal(server.stats.dropped['proxy-state-without-message-authenticator'], 1);
      assert.equal(attributeOf(accepted, 'Mikrotik-Rate-Limit'), '2000k/10000k');
      assert.equal(attributeOf(accepted, 'Mikrotik-Total-Limit'), String(2 ** 30));
      assert.equal(attributeOf(accepted, 'Mikrotik-Total-Limit-Gigawords'), '1');
    } finally {
      await server.close();
      await fixture.close();
    }
  });
});
