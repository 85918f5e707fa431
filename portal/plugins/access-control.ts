import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../../appliance/domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';

/** Who is calling, once their token or cookie has been verified. */
export interface Principal {
  userId: string;
  email: string;
  role: Role;
  /** False while a staff member still owes a second factor or MFA enrolment. */
  mfaSatisfied: boolean;
  sessionId: string | null;
}

/** Turns a request's bearer token or session cookie into a Principal (or null). */
export interface Authenticator {
  authenticate(request: FastifyRequest): Promise<Principal | null>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles admitted to this route. Every route declares `roles` or `public`. */
    roles?: readonly Role[];
    /** Reachable without signing in (captive pages, login, probes). */
    public?: boolean;
    /** Admit a signed-in staff member who has not completed MFA (enrolment routes). */
    allowPendingMfa?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    routeTable: RouteAccess[];
  }
}

export interface RouteAccess {
  method: string;
  url: string;
  roles: readonly Role[] | null;
  public: boolean;
}

export class RouteWithoutAccessRuleError extends Error {}

/**
 * Deny by default: a route that declares neither `roles` nor `public` cannot
 * be registered, and a request reaches a handler only with an admitted role.
 */
export const accessControl = fp(
  async (app: FastifyInstance, options: { authenticator: Authenticator }) => {
    app.decorate('routeTable', [] as RouteAccess[]);
    app.decorateRequest('principal', null);

    app.addHook('onRoute', (route) => {
      const config = (route.config ?? {}) as { roles?: readonly Role[]; public?: boolean };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD' && route.prefixTrailingSlash !== undefined) continue;
        app.routeTable.push({ method, url: route.url, roles: config.roles ?? null, public: config.public === true });
      }
      if (!config.public && !(config.roles && config.roles.length > 0)) {
        throw new RouteWithoutAccessRuleError(
          `${methods.join(',')} ${route.url} declares no roles: add config.roles or config.public`,
        );
      }
    });

    app.addHook('onRequest', async (request) => {
      request.principal = await options.authenticator.authenticate(request);
      const config = request.routeOptions.config;
      // An unknown path gets the not-found answer, not a demand to sign in.
      if (config.public || request.is404) return;
      const roles = config.roles ?? [];
      const principal = request.principal;
      if (!principal) throw new TurnpikeError('TP_ERR_UNAUTHENTICATED');
      if (!principal.mfaSatisfied && !config.allowPendingMfa) throw new TurnpikeError('TP_ERR_MFA_REQUIRED');
      if (!roles.includes(principal.role)) throw new TurnpikeError('TP_ERR_FORBIDDEN');
    });
  },
  { name: 'turnpike-access-control' },
);
