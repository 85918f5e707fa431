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
      transform: ({ schema, url, route }) => {
        const include = url.startsWith('/api/v1/');
        return { schema: include ? schema : { ...schema, hide: true }, url, ...(route ? {} : {}) };
      },
    });

    app.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'turnpike-openapi' },
);
