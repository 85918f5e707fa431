import { status } from '@grpc/grpc-js';
import { grpcStatusOf, isTurnpikeError } from '../../shared/errors.js';

/** A failure that already is a gRPC status (deadline, cancellation); crosses the wire as is. */
export class GrpcStatusError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = 'GrpcStatusError';
    this.code = code;
  }
}

/** The status an error becomes on the wire; anything untyped is INTERNAL. */
export function statusOf(err: unknown): status {
  if (err instanceof GrpcStatusError) return err.code;
  if (isTurnpikeError(err)) return grpcStatusOf(err.code) as status;
  return status.INTERNAL;
}

/** The message a caller may see: typed errors keep theirs, INTERNAL never leaks details. */
export function publicMessageOf(err: unknown): string {
  if (statusOf(err) === status.INTERNAL) return 'internal error';
  return err instanceof Error ? err.message : String(err);
}
