import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { validateConfig } from '../config/load-config.js';
import { silentLogger } from '../../shared/logger.js';
import { createMailPort, OutboxMailPort, outboxDirOf, SmtpMailPort } from './mail-port.js';

test('without SMTP, mail lands as private .eml files in <dataDir>/outbox', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-mail-'));
  try {
    const config = validateConfig({ dataDir: dir }, 'test');
    const mail = createMailPort({ config, clock: new ManualClock(Date.UTC(2026, 4, 1, 12)), logger: silentLogger });
    assert.ok(mail instanceof OutboxMailPort);
    assert.equal(outboxDirOf(config), join(dir, 'outbox'));
    await mail.send({
      to: 'guest@example.test',
      subject: 'Reset your password',
      text: 'Open https://x/reset?token=abc',
    });
    await mail.send({ to: 'guest@example.test', subject: 'Second', text: 'two', html: '<p>two</p>' });
    const files = (await readdir(join(dir, 'outbox'))).sort();
    assert.equal(files.length, 2);
    assert.match(files[0]!, /^2026-05-01T12-00-00\.000Z-[0-9a-f]{8}\.eml$/);
    const first = await readFile(join(dir, 'outbox', files[0]!), 'utf8');
    const all = first + (await readFile(join(dir, 'outbox', files[1]!), 'utf8'));
    assert.match(all, /^To: guest@example\.test$/m);
    assert.match(all, /^Subject: Reset your password$/m);
    assert.match(all, /^From: Turnpike <no-reply@turnpike\.local>$/m);
    assert.match(all, /token=abc/);
    assert.equal((await stat(join(dir, 'outbox', files[0]!))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'outbox'))).mode & 0o777, 0o700);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Just enough SMTP (RFC 5321) to accept one message on loopback. */
async function fakeSmtpServer(): Promise<{ port: number; messages: string[]; close(): Promise<void> }> {
  const messages: string[] = [];
  const server = createServer((socket) => {
    let data: string | null = null;
    let buffered = '';
    socket.write('220 fake ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (;;) {
        if (data !== null) {
          const end = buffered.indexOf('\r\n.\r\n');
          if (end < 0) return;
          messages.push(data + buffered.slice(0, end));
          buffered = buffered.slice(end + 5);
          data = null;
          socket.write('250 queued\r\n');
          continue;
        }
        const newline = buffered.indexOf('\r\n');
        if (newline < 0) return;
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 fake\r\n');
        else if (verb === 'DATA') {
          data = '';
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('with an SMTP URL configured, mail goes over SMTP', async () => {
  const smtp = await fakeSmtpServer();
  try {
    const config = validateConfig(
      { dataDir: '/nonexistent', mail: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: 'Desk <desk@example.test>' } },
      'test',
    );
    const mail = createMailPort({ config, clock: new ManualClock(), logger: silentLogger });
    assert.ok(mail instanceof SmtpMailPort);
    await mail.send({ to: 'guest@example.test', subject: 'Confirm your email address', text: 'Open the link' });
    assert.equal(smtp.messages.length, 1);
    assert.match(smtp.messages[0]!, /^Subject: Confirm your email address\r?$/m);
    assert.match(smtp.messages[0]!, /^To: guest@example\.test\r?$/m);
    assert.match(smtp.messages[0]!, /^From: Desk <desk@example\.test>\r?$/m);
  } finally {
    await smtp.close();
  }
});
