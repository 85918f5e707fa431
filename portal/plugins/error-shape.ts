import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ERRORS, httpStatusOf, isTurnpikeError, retryAfterOf, type ErrorCode } from '../../shared/errors.js';
import { validationMessage } from './validation-message.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** The one JSON Schema of an error response, referenced by every route. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

function fromFastify(err: FastifyError): { code: ErrorCode; message: string } | null {
  if (err.validation) return { code: 'TP_ERR_VALIDATION', message: validationMessage(err) };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'TP_ERR_PAYLOAD_TOO_LARGE', message: ERRORS.TP_ERR_PAYLOAD_TOO_LARGE.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'TP_ERR_UNSUPPORTED_MEDIA', message: ERRORS.TP_ERR_UNSUPPORTED_MEDIA.message };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'TP_ERR_VALIDATION', message: 'The body is not valid JSON' };
    case 'FST_CSRF_INVALID_TOKEN':
    case 'FST_CSRF_MISSING_SECRET':
      return { code: 'TP_ERR_CSRF', message: ERRORS.TP_ERR_CSRF.message };
    default:
      break;
  }
  if (err.statusCode === 429) return { code: 'TP_ERR_RATE_LIMITED', message: ERRORS.TP_ERR_RATE_LIMITED.message };
  if (err instanceof SyntaxError) return { code: 'TP_ERR_VALIDATION', message: 'The body is not valid JSON' };
  return null;
}

/** Maps every failure to `{"error": {"code", "message"}}` with the table's status; never leaks a stack. */
export const errorShape = fp(
  async (app: FastifyInstance) => {
    app.addSchema(errorBodySchema);

    app.setErrorHandler((err: FastifyError, request, reply) => {
      let body: ErrorBody['error'];
      let status: number;
      if (isTurnpikeError(err)) {
        status = httpStatusOf(err.code);
        body = { code: err.code, message: err.message, ...(err.details ? { details: { ...err.details } } : {}) };
      } else {
        const mapped = fromFastify(err);
        if (mapped) {
          status = mapped.code === 'TP_ERR_RATE_LIMITED' ? 429 : httpStatusOf(mapped.code);
          body = mapped;
        } else {
          request.log.error({ err }, 'unhandled error');
          status = 500;
          body = { code: 'TP_ERR_INTERNAL', message: ERRORS.TP_ERR_INTERNAL.message };
        }
      }
      if (status >= 500) request.log.error({ code: body.code }, body.message);
      const retryAfter = retryAfterOf(body.code);
      if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
      void reply.status(status).type('application/json; charset=utf-8').send({ error: body });
    });

    app.setNotFoundHandler((request, reply) => {
      void reply
        .status(404)
        .send({ error: { code: 'TP_ERR_NOT_FOUND', message: `No route for ${request.method} ${request.url}` } });
    });
  },
  { name: 'turnpike-error-shape' },
);
