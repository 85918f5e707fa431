import { createHmac } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { FakeEvent } from './fake-ledger.js';

export interface WebhookRetryPolicy {
  /** Delay before the first retry; each further retry doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Attempts in all, the first one included. */
  maxAttempts: number;
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
  attempts: number;
  delivered: boolean;
  lastStatus: number | null;
}

/** `Stripe-Signature: t=…,v1=…`: HMAC-SHA256 of `${t}.${payload}` with the endpoint secret. */
export function signPayload(payload: string, secret: string, timestampSeconds: number): string {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`).digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}

/**
 * Sends each event to the endpoint, independently (so, like Stripe, order is
 * not guaranteed), signing every attempt afresh and retrying with exponential
 * back-off while the receiver fails or cannot be reached.
 */
export class WebhookDelivery {
  readonly records: DeliveryRecord[] = [];
  #url: string | null;
  readonly #secret: string;
  readonly #clock: Clock;
  readonly #policy: WebhookRetryPolicy;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  #closed = false;

  constructor(options: { url: string | null; secret: string; clock: Clock; policy: WebhookRetryPolicy }) {
    this.#url = options.url;
    this.#secret = options.secret;
    this.#clock = options.clock;
    this.#policy = options.policy;
  }

  setUrl(url: string | null): void {
    this.#url = url;
  }

  enqueue(event: FakeEvent): void {
    const url = this.#url;
    if (!url || this.#closed) return;
    const record: DeliveryRecord = {
      eventId: event.id,
      type: event.type,
      attempts: 0,
      delivered: false,
      lastStatus: null,
    };
    this.records.push(record);
    const payload = JSON.stringify(event, null, 2);
    const run = this.#deliver(url, payload, record);
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  async #deliver(url: string, payload: string, record: DeliveryRecord): Promise<void> {
    // Let the API response that caused the event leave first, as Stripe does.
    await this.#sleep(0);
    while (!this.#closed && record.attempts < this.#policy.maxAttempts) {
      record.attempts += 1;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'stripe-signature': signPayload(payload, this.#secret, Math.floor(this.#clock.now() / 1000)),
          },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        record.lastStatus = response.status;
        await response.arrayBuffer().catch(() => undefined);
        if (response.status >= 200 && response.status < 300) {
          record.delivered = true;
          return;
        }
      } catch {
        record.lastStatus = null;
      }
      const delay = Math.min(this.#policy.maxDelayMs, this.#policy.baseDelayMs * 2 ** (record.attempts - 1));
      await this.#sleep(delay);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.set(timer, resolve);
    });
  }

  /** Resolves once every queued delivery has succeeded or used up its attempts. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  close(): void {
    this.#closed = true;
    for (const [timer, resolve] of this.#timers) {
      clearTimeout(timer);
      resolve();
    }
    this.#timers.clear();
  }
}
