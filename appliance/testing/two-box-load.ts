import { radclient } from '../../radius/radclient-driver.js';
import type { ApplianceProcess } from './appliance-process.js';

/** One accounting Start sent by radclient: acknowledged when `reply` is an Accounting-Response. */
export interface RadiusRecord {
  box: string;
  acctSessionId: string;
  sentAt: number;
  doneAt: number;
  reply: string | null;
}

/** One sign-up posted to a portal: acknowledged when `status` is 202. */
export interface HttpRecord {
  box: string;
  email: string;
  sentAt: number;
  doneAt: number;
  /** null: no HTTP answer at all (connection refused or reset). */
  status: number | null;
  retryAfter: string | null;
}

export interface LoadOptions {
  boxes: readonly ApplianceProcess[];
  nasSecret: string;
  /** The Class the NAS echoes (`0x…`), naming the subscription the sessions run under. */
  classHex: string;
  /** Makes session ids and emails unique to one load. */
  label: string;
  radiusWorkersPerBox?: number;
  httpWorkersPerBox?: number;
}

/**
 * Keeps every box busy with acknowledged writes of both doors: RADIUS accounting Starts (each a
 * new session, journaled before its Accounting-Response) and guest sign-ups over HTTP (each a new
 * user, stored before the 202). Each worker sends one request at a time, as a NAS or a browser would.
 */
export class TwoBoxLoad {
  readonly radius: RadiusRecord[] = [];
  readonly http: HttpRecord[] = [];
  readonly #options: LoadOptions;
  readonly #workers: Array<Promise<void>> = [];
  #stopped = false;
  #next = 0;

  constructor(options: LoadOptions) {
    this.#options = options;
  }

  start(): void {
    const { boxes, radiusWorkersPerBox = 2, httpWorkersPerBox = 1 } = this.#options;
    for (const box of boxes) {
      for (let i = 0; i < radiusWorkersPerBox; i += 1) this.#workers.push(this.#loop(() => this.#accountingStart(box)));
      for (let i = 0; i < httpWorkersPerBox; i += 1) this.#workers.push(this.#loop(() => this.#signUp(box)));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers);
  }

  /** The longest time `box` went without answering anything between `from` and `to` (ms). */
  longestSilence(box: string, from: number, to: number): number {
    const answers = [
      ...this.radius.filter((r) => r.box === box && r.reply !== null).map((r) => r.doneAt),
      ...this.http.filter((r) => r.box === box && r.status !== null).map((r) => r.doneAt),
    ]
      .filter((at) => at >= from && at <= to)
      .sort((a, b) => a - b);
    let longest = 0;
    let previous = from;
    for (const at of [...answers, to]) {
      longest = Math.max(longest, at - previous);
      previous = at;
    }
    return longest;
  }

  async #loop(step: () => Promise<void>): Promise<void> {
    while (!this.#stopped) await step();
  }

  async #accountingStart(box: ApplianceProcess): Promise<void> {
    const n = (this.#next += 1);
    const acctSessionId = `${this.#options.label}-${n}`;
    const mac = `02-${this.#options.label.length.toString(16).padStart(2, '0')}-00-${hex(n >> 16)}-${hex(n >> 8)}-${hex(n)}`;
    const body = [
      'Acct-Status-Type = Start',
      `Acct-Session-Id = "${acctSessionId}"`,
      `Class = ${this.#options.classHex}`,
      `Calling-Station-Id = "${mac}"`,
      `Framed-IP-Address = 10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      '',
    ].join('\n');
    const sentAt = Date.now();
    const result = await radclient(box.acctTarget, 'acct', this.#options.nasSecret, body);
    this.radius.push({ box: box.name, acctSessionId, sentAt, doneAt: Date.now(), reply: result.reply });
  }

  async #signUp(box: ApplianceProcess): Promise<void> {
    const email = `${this.#options.label}-${(this.#next += 1)}@example.test`;
    const sentAt = Date.now();
    let status: number | null = null;
    let retryAfter: string | null = null;
    try {
      const response = await fetch(`${box.portalUrl}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'two boxes share one database 7' }),
        signal: AbortSignal.timeout(10_000),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      await response.arrayBuffer();
    } catch {
      // No answer at all: the box is gone. A worker keeps trying, as a browser's user would.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.http.push({ box: box.name, email, sentAt, doneAt: Date.now(), status, retryAfter });
  }
}

const hex = (value: number): string => (value & 255).toString(16).padStart(2, '0');
