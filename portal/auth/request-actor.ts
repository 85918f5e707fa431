import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../appliance/accounts/audit.js';

/**
 * The signed-in person behind a request, as the domain commands record them in the audit log.
 * Every staff route is behind the role check, so a principal is there; without one the request
 * is anonymous.
 */
export function requestActor(request: FastifyRequest): Actor {
  const principal = request.principal;
  if (!principal) return { kind: 'anonymous', ip: request.ip };
  return { kind: 'user', id: principal.userId, email: principal.email, role: principal.role, ip: request.ip };
}
