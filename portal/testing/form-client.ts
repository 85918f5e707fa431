import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** A tiny browser for `inject`: keeps cookies, reads the CSRF token of the last page, posts forms. */
export class FormClient {
  readonly cookies = new Map<string, string>();
  csrf = '';
  readonly #app: FastifyInstance;
  readonly #remoteAddress: string;
  readonly #headers: Record<string, string>;

  constructor(app: FastifyInstance, options: { remoteAddress?: string; headers?: Record<string, string> } = {}) {
    this.#app = app;
    this.#remoteAddress = options.remoteAddress ?? '127.0.0.1';
    this.#headers = options.headers ?? {};
  }

  #cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  #absorb(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of res.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() < Date.now());
      if (expired || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (token) this.csrf = token[1]!;
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.#absorb(
      await this.#app.inject({
        method: 'GET',
        url,
        remoteAddress: this.#remoteAddress,
        headers: { ...this.#headers, cookie: this.#cookieHeader(), ...headers },
      }),
    );
  }

  async post(
    url: string,
    fields: Record<string, string>,
    options: { withCsrf?: boolean } = {},
  ): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams({ ...(options.withCsrf === false ? {} : { _csrf: this.csrf }), ...fields });
    return this.#absorb(
      await this.#app.inject({
        method: 'POST',
        url,
        remoteAddress: this.#remoteAddress,
        headers: {
          ...this.#headers,
          cookie: this.#cookieHeader(),
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: body.toString(),
      }),
    );
  }
}
