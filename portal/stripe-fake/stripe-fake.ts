import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../shared/clock.js';
import { renderCheckoutPage, renderGonePage } from './checkout-page.js';
import { FakeCharges } from './fake-charges.js';
import { FakeCheckout } from './fake-checkout.js';
import { FakeSubscriptions } from './fake-subscriptions.js';
import { FakeCatalog } from './fake-catalog.js';
import {
  FakeLedger,
  FakeStripeError,
  createdFilter,
  optionalString,
  type Collection,
  type FakeEvent,
  type StripeObject,
} from './fake-ledger.js';
import { FakeStateFile, readFakeState } from './fake-state-file.js';
import { parseStripeForm, type FormObject } from './form-params.js';
import { WebhookDelivery, type DeliveryRecord, type WebhookRetryPolicy } from './webhook-delivery.js';

export interface StripeFakeOptions {
  host?: string;
  port?: number;
  /** Where signed events are POSTed; null = nowhere (events still land in GET /v1/events). */
  webhookUrl?: string | null;
  webhookSecret: string;
  /** Base clock for signatures; billing time is this plus whatever `advance` added. */
  clock?: Clock;
  /** Require exactly this secret key; otherwise any `sk_test_…` key is accepted. */
  apiKey?: string;
  /** The base URL browsers use for the hosted checkout page (defaults to the listen address). */
  publicUrl?: string;
  retry?: Partial<WebhookRetryPolicy>;
  /**
   * Keep the fake's objects, events and test clock in this file (mode 0600, replaced atomically
   * after each change), so a stop and start loses nothing the appliance holds ids of.
   */
  stateFile?: string;
}

export interface StripeFake {
  url: string;
  host: string;
  port: number;
  /** Billing time in ms (base clock plus advances). */
  now(): number;
  /** The test clock: renew and retry everything that falls due in the next `seconds`. */
  advance(seconds: number): void;
  /** The customer's next charges use this card (e.g. the decline card to make a renewal fail). */
  setDefaultCard(customerId: string, cardNumber: string): void;
  /** What the hosted page does on submit, for tests that do not drive a browser. */
  payCheckout(sessionId: string, cardNumber: string): { ok: true; redirect: string } | { ok: false; message: string };
  setWebhookUrl(url: string | null): void;
  events(): readonly FakeEvent[];
  deliveries(): readonly DeliveryRecord[];
  /** Resolves when every pending webhook delivery has succeeded or given up. */
  webhooksIdle(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_RETRY: WebhookRetryPolicy = { baseDelayMs: 1000, maxDelayMs: 3_600_000, maxAttempts: 12 };

type Handler = (params: FormObject, id: string, request: FastifyRequest) => unknown;

function queryOf(request: FastifyRequest): FormObject {
  const url = request.raw.url ?? '';
  const index = url.indexOf('?');
  return index === -1 ? {} : parseStripeForm(url.slice(index + 1));
}

function expands(params: FormObject): string[] {
  const expand = params.expand;
  if (Array.isArray(expand)) return expand.filter((item): item is string => typeof item === 'string');
  return typeof expand === 'string' ? [expand] : [];
}

function equalsParam(params: FormObject, name: string): (object: StripeObject) => boolean {
  const wanted = optionalString(params, name);
  return (object) => wanted === null || String(object[name]) === wanted;
}

/** Starts the fake on host:port (port 0 picks a free one). */
export async function startStripeFake(options: StripeFakeOptions): Promise<StripeFake> {
  const clock = options.clock ?? systemClock;
  let baseUrl = options.publicUrl ?? '';
  const delivery = new WebhookDelivery({
    url: options.webhookUrl ?? null,
    secret: options.webhookSecret,
    clock,
    policy: { ...DEFAULT_RETRY, ...options.retry },
  });
  const ledger = new FakeLedger(clock, (event) => delivery.enqueue(event));
  const catalog = new FakeCatalog(ledger);
  const charges = new FakeCharges(ledger, catalog);
  const subscriptions = new FakeSubscriptions(ledger, catalog, charges);
  const checkout = new FakeCheckout(ledger, catalog, charges, subscriptions, () => baseUrl);
  const idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  const saved = options.stateFile ? await readFakeState(options.stateFile) : null;
  if (saved) {
    ledger.importState(saved.ledger);
    catalog.importCards(saved.cards);
    checkout.importExtras(saved.checkoutExtras);
    for (const [key, value] of saved.idempotency) idempotent.set(key, value);
  }
  const stateFile = options.stateFile
    ? new FakeStateFile(options.stateFile, () => ({
        version: 1,
        ledger: ledger.exportState(),
        cards: catalog.exportCards(),
        checkoutExtras: checkout.exportExtras(),
        idempotency: [...idempotent],
        keys: { apiKey: options.apiKey ?? null, webhookSecret: options.webhookSecret },
      }))
    : null;
  /** Resolves once every change so far is in the state file (at once without one). */
  const persist = async (): Promise<void> => {
    await stateFile?.save();
  };
  /** For the test-control calls that answer synchronously: a failed write is retried by the next save. */
  const persistSoon = (): void => {
    persist().catch(() => undefined);
  };

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 1_048_576 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseStripeForm(String(body)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  const authorize = (request: FastifyRequest): void => {
    const header = request.headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice(7) : '';
    const ok = options.apiKey ? key === options.apiKey : /^(sk|rk)_test_\w+$/.test(key);
    if (!ok) {
      throw new FakeStripeError(
        401,
        'invalid_request_error',
        'api_key_invalid',
        `Invalid API Key provided: ${key.slice(0, 8)}***`,
      );
    }
  };

  const send = (reply: FastifyReply, status: number, body: unknown, replayed: boolean): FastifyReply => {
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply
      .code(status)
      .header('request-id', `req_${Math.random().toString(36).slice(2, 16)}`)
      .send(body);
  };

  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, handler: Handler): void => {
    app.route({
      method,
      url,
      handler: async (request, reply) => {
        const params = method === 'GET' ? queryOf(request) : ((request.body as FormObject | undefined) ?? {});
        const id = (request.params as { id?: string }).id ?? '';
        const key = method === 'POST' ? request.headers['idempotency-key'] : undefined;
        const fingerprint = `${method} ${request.url.split('?')[0]} ${JSON.stringify(params)}`;
        let status = 200;
        let body: unknown;
        try {
          authorize(request);
          if (typeof key === 'string') {
            const seen = idempotent.get(key);
            if (seen && seen.fingerprint !== fingerprint) {
              throw new FakeStripeError(
                400,
                'idempotency_error',
                'idempotency_key_in_use',
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              );
            }
            if (seen) return send(reply, seen.status, seen.body, true);
          }
          body = handler(params, id, request);
        } catch (err) {
          const error =
            err instanceof FakeStripeError
              ? err
              : new FakeStripeError(500, 'api_error', 'internal', (err as Error).message);
          status = error.status;
          body = error.toBody();
          if (status === 401) return send(reply, status, body, false);
        }
        if (typeof key === 'string' && status < 500)
          idempotent.set(key, { fingerprint, status, body: structuredClone(body) });
        if (method !== 'GET') await persist();
        return send(reply, status, body, false);
      },
    });
  };

  const list = (
    kind: Collection,
    url: string,
    filters: (params: FormObject) => Array<(object: StripeObject) => boolean>,
  ) =>
    api('GET', url, (params) => {
      const keep = [createdFilter(params), ...filters(params)];
      return ledger.page(
        url,
        ledger.newestFirst(kind, (object) => keep.every((test) => test(object))),
        params,
      );
    });
  const retrieve = (kind: Collection, url: string) => api('GET', url, (_params, id) => ledger.get(kind, id));

  api('POST', '/v1/customers', (params) => catalog.createCustomer(params));
  api('POST', '/v1/customers/:id', (params, id) => catalog.updateCustomer(id, params));
  retrieve('customer', '/v1/customers/:id');
  list('customer', '/v1/customers', (params) => [equalsParam(params, 'email')]);

  api('POST', '/v1/products', (params) => catalog.createProduct(params));
  api('POST', '/v1/products/:id', (params, id) => catalog.updateProduct(id, params));
  retrieve('product', '/v1/products/:id');
  list('product', '/v1/products', (params) => [equalsParam(params, 'active')]);

  api('POST', '/v1/prices', (params) => catalog.createPrice(params));
  api('POST', '/v1/prices/:id', (params, id) => catalog.updatePrice(id, params));
  retrieve('price', '/v1/prices/:id');
  list('price', '/v1/prices', (params) => [equalsParam(params, 'product'), equalsParam(params, 'active')]);

  api('POST', '/v1/payment_methods/:id/attach', (params, id) => catalog.attachPaymentMethod(id, params));
  retrieve('payment_method', '/v1/payment_methods/:id');

  const withLineItems = (session: StripeObject, params: FormObject): StripeObject =>
    expands(params).includes('line_items')
      ? {
          ...session,
          line_items: {
            object: 'list',
            has_more: false,
            url: `/v1/checkout/sessions/${session.id}/line_items`,
            data: checkout.sessionLineItems(session.id),
          },
        }
      : session;
  api('POST', '/v1/checkout/sessions', (params) => withLineItems(checkout.createCheckoutSession(params), params));
  api('GET', '/v1/checkout/sessions/:id', (params, id) => withLineItems(ledger.get('checkout.session', id), params));
  api('POST', '/v1/checkout/sessions/:id/expire', (_params, id) => checkout.expireCheckoutSession(id));
  api('GET', '/v1/checkout/sessions/:id/line_items', (params, id) => {
    ledger.get('checkout.session', id);
    return ledger.page(`/v1/checkout/sessions/${id}/line_items`, checkout.sessionLineItems(id), params);
  });
  list('checkout.session', '/v1/checkout/sessions', (params) => [
    equalsParam(params, 'customer'),
    equalsParam(params, 'payment_intent'),
    equalsParam(params, 'subscription'),
  ]);

  api('POST', '/v1/payment_intents', (params) => charges.createPaymentIntent(params));
  retrieve('payment_intent', '/v1/payment_intents/:id');
  list('payment_intent', '/v1/payment_intents', (params) => [equalsParam(params, 'customer')]);

  retrieve('charge', '/v1/charges/:id');
  list('charge', '/v1/charges', (params) => [equalsParam(params, 'customer'), equalsParam(params, 'payment_intent')]);

  api('POST', '/v1/subscriptions', (params) => subscriptions.createSubscription(params));
  api('POST', '/v1/subscriptions/:id', (params, id) => subscriptions.updateSubscription(id, params));
  api('DELETE', '/v1/subscriptions/:id', (_params, id) => subscriptions.cancelSubscription(id));
  retrieve('subscription', '/v1/subscriptions/:id');
  list('subscription', '/v1/subscriptions', (params) => [
    equalsParam(params, 'customer'),
    (object) => {
      const status = optionalString(params, 'status');
      if (status === 'all') return true;
      return status === null ? object.status !== 'canceled' : object.status === status;
    },
  ]);

  retrieve('invoice', '/v1/invoices/:id');
  list('invoice', '/v1/invoices', (params) => [
    equalsParam(params, 'customer'),
    equalsParam(params, 'status'),
    (object) => {
      const wanted = optionalString(params, 'subscription');
      const parent = object.parent as { subscription_details: { subscription: string } | null } | null;
      return wanted === null || parent?.subscription_details?.subscription === wanted;
    },
  ]);

  api('POST', '/v1/refunds', (params) => charges.createRefund(params));
  retrieve('refund', '/v1/refunds/:id');
  list('refund', '/v1/refunds', (params) => [equalsParam(params, 'charge'), equalsParam(params, 'payment_intent')]);

  api('GET', '/v1/events/:id', (_params, id) => {
    const event = ledger.events.find((item) => item.id === id);
    if (!event)
      throw new FakeStripeError(404, 'invalid_request_error', 'resource_missing', `No such event: '${id}'`, 'id');
    return event;
  });
  api('GET', '/v1/events', (params) => {
    const inRange = createdFilter(params);
    const type = optionalString(params, 'type');
    const matching = ledger.events
      .filter((event) => inRange(event) && (type === null || event.type === type))
      .reverse();
    return ledger.page('/v1/events', matching, params);
  });

  // Fake-only controls (same key as the API): the test clock and the card on file.
  api('POST', '/_fake/advance', (params) => {
    const seconds = Number(optionalString(params, 'seconds') ?? '0');
    if (!Number.isInteger(seconds) || seconds < 0) {
      throw new FakeStripeError(
        400,
        'invalid_request_error',
        'parameter_invalid_integer',
        'seconds must be a non-negative integer',
        'seconds',
      );
    }
    subscriptions.advance(seconds);
    return { object: 'test_clock', frozen_time: ledger.nowSeconds() };
  });
  api('POST', '/_fake/customers/:id/card', (params, id) => {
    catalog.setDefaultCard(id, optionalString(params, 'number') ?? '');
    return ledger.get('customer', id);
  });

  /** As Stripe does: the session's email, else the email of the customer the session was made for. */
  const checkoutEmail = (session: StripeObject): string => {
    if (typeof session.customer_email === 'string') return session.customer_email;
    const customer = typeof session.customer === 'string' ? ledger.find('customer', session.customer) : null;
    return typeof customer?.email === 'string' ? customer.email : '';
  };

  // The hosted checkout page the guest's browser is sent to.
  app.get('/c/pay/:id', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const session = ledger.find('checkout.session', id);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (!session) return reply.code(404).send(renderGonePage('This checkout link is not valid.'));
    if (session.status === 'complete')
      return reply.redirect((session.success_url as string).replaceAll('{CHECKOUT_SESSION_ID}', id), 303);
    if (session.status !== 'open')
      return reply.code(410).send(renderGonePage('This checkout session has expired. Go back and start again.'));
    return reply.send(
      renderCheckoutPage({
        session,
        lineItems: checkout.sessionLineItems(id),
        error: null,
        email: checkoutEmail(session),
      }),
    );
  });
  app.post('/c/pay/:id', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const session = ledger.find('checkout.session', id);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (!session) return reply.code(404).send(renderGonePage('This checkout link is not valid.'));
    const form = (request.body as FormObject | undefined) ?? {};
    const email = optionalString(form, 'email');
    const result = checkout.payCheckout(id, optionalString(form, 'cardnumber') ?? '', email);
    await persist();
    if (result.ok) return reply.redirect(result.redirect, 303);
    const view = {
      session,
      lineItems: checkout.sessionLineItems(id),
      error: `${result.message} Check the details or use another card.`,
      email: email ?? '',
    };
    return reply.code(402).send(renderCheckoutPage(view));
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        new FakeStripeError(
          404,
          'invalid_request_error',
          'url_invalid',
          `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]}).`,
        ).toBody(),
      );
  });
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    reply
      .code(status)
      .send(
        new FakeStripeError(
          status,
          status < 500 ? 'invalid_request_error' : 'api_error',
          'invalid_request',
          error.message,
        ).toBody(),
      );
  });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  if (!baseUrl) baseUrl = url;

  return {
    url,
    host,
    port: address.port,
    now: () => ledger.nowMs(),
    advance: (seconds) => {
      subscriptions.advance(seconds);
      persistSoon();
    },
    setDefaultCard: (customerId, cardNumber) => {
      catalog.setDefaultCard(customerId, cardNumber);
      persistSoon();
    },
    payCheckout: (sessionId, cardNumber) => {
      const result = checkout.payCheckout(sessionId, cardNumber, null);
      persistSoon();
      return result;
    },
    setWebhookUrl: (webhookUrl) => delivery.setUrl(webhookUrl),
    events: () => ledger.events,
    deliveries: () => delivery.records,
    webhooksIdle: () => delivery.idle(),
    close: async () => {
      delivery.close();
      await delivery.idle();
      await app.close();
      // Every change was saved as it was made; only a save still running is waited for.
      await stateFile?.settled();
    },
  };
}
