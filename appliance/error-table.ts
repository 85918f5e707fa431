import {
  answersRadius,
  ERRORS,
  grpcStatusOf,
  httpStatusOf,
  replyMessageOf,
  retryAfterOf,
  type ErrorCode,
} from '../shared/errors.js';

const GRPC_NAMES: Record<number, string> = {
  3: 'INVALID_ARGUMENT',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/**
 * The documented list of every error code (docs/errors.md): how each looks to an HTTP client, a
 * gRPC caller and a NAS. Generated from the one table, and a test holds the document to it.
 */
export function errorTableMarkdown(): string {
  const rows = (Object.keys(ERRORS) as ErrorCode[]).map((code) => {
    const retry = retryAfterOf(code);
    const http = `${httpStatusOf(code)}${retry === undefined ? '' : ` (Retry-After: ${retry})`}`;
    const grpc = `${grpcStatusOf(code)} ${GRPC_NAMES[grpcStatusOf(code)] ?? ''}`.trim();
    const radius = answersRadius(code)
      ? `Access-Reject, Reply-Message "${replyMessageOf(code)}"`
      : 'no answer (the NAS retransmits)';
    return `| \`${code}\` | ${http} | ${grpc} | ${radius} | ${ERRORS[code].message} |`;
  });
  return [
    '# Error codes',
    '',
    'Every failure Turnpike reports is one of these codes, from one table (`shared/errors.ts`).',
    'HTTP answers carry `{"error": {"code": "…", "message": "…"}}`; fastify\'s own errors (body too',
    'large, wrong media type, bad JSON, CSRF) are mapped onto these codes too. This file is generated:',
    '`npx tsx appliance/write-error-table.ts`.',
    '',
    '| code | HTTP | gRPC | RADIUS (Access-Request) | message |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
