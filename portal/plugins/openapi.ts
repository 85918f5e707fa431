import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';

/** Builds the OpenAPI 3 document from the route schemas and serves it. */
export const openapi = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'Turnpike API', version: '1.0.0', description: 'Captive-portal access gateway' },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
      hideUntagged: false,
      // Security comes from the route's own access rule, never from a hand-written list that can drift:
      // a public route is anonymous (a bearer token, when sent, is still read), every other needs one.
      transform: ({ schema, url, route }) => {
        if (!url.startsWith('/api/v1/')) return { schema: { ...schema, hide: true }, url };
        const access = (route.config ?? {}) as { public?: boolean; roles?: readonly string[] };
        const security = access.public ? [] : [{ bearer: [] }];
        const roles = access.public ? 'anyone' : (access.roles ?? []).join(', ');
        return { schema: { ...schema, security, 'x-turnpike-roles': roles } as typeof schema, url };
      },
    });

    app.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'turnpike-openapi' },
);
