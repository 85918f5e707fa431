import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type Nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { Config } from '../config/schema.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** The one way Turnpike sends mail: SMTP when configured, otherwise `.eml` files in the outbox. */
export interface MailPort {
  send(message: MailMessage): Promise<void>;
}

/**
 * nodemailer, imported when the first message is sent: most boxes send mail
 * rarely, and it would otherwise hold memory in the appliance from the start.
 */
async function nodemailerModule(): Promise<typeof Nodemailer> {
  return (await import('nodemailer')).default;
}

/** Writes each message as an RFC 5322 `.eml` file (mode 0600), named so a listing sorts by time. */
export class OutboxMailPort implements MailPort {
  readonly dir: string;
  readonly #from: string;
  readonly #clock: Clock;
  #render: Promise<Transporter> | null = null;

  constructor(options: { dir: string; from: string; clock: Clock }) {
    this.dir = options.dir;
    this.#from = options.from;
    this.#clock = options.clock;
  }

  async send(message: MailMessage): Promise<void> {
    this.#render ??= nodemailerModule().then((mailer) =>
      mailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }),
    );
    const info = (await (await this.#render).sendMail({ from: this.#from, ...message })) as { message: Buffer };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const name = `${new Date(this.#clock.now()).toISOString().replaceAll(':', '-')}-${randomBytes(4).toString('hex')}.eml`;
    await writeFile(join(this.dir, name), info.message, { mode: 0o600, flag: 'wx' });
  }
}

export class SmtpMailPort implements MailPort {
  readonly #from: string;
  readonly #smtpUrl: string;
  #transport: Promise<Transporter> | null = null;

  constructor(options: { smtpUrl: string; from: string }) {
    this.#from = options.from;
    this.#smtpUrl = options.smtpUrl;
  }

  async send(message: MailMessage): Promise<void> {
    this.#transport ??= nodemailerModule().then((mailer) => mailer.createTransport(this.#smtpUrl));
    await (await this.#transport).sendMail({ from: this.#from, ...message });
  }
}

export function outboxDirOf(config: Config): string {
  return resolve(config.mail.outboxDir || join(config.dataDir, 'outbox'));
}

export function createMailPort(options: { config: Config; clock: Clock; logger: Logger }): MailPort {
  const { mail } = options.config;
  if (mail.smtpUrl) return new SmtpMailPort({ smtpUrl: mail.smtpUrl, from: mail.from });
  const dir = outboxDirOf(options.config);
  options.logger.info({ outbox: dir }, 'mail is written to the outbox directory (no SMTP configured)');
  return new OutboxMailPort({ dir, from: mail.from, clock: options.clock });
}
