import {
  Metadata,
  type ServiceError,
  type handleUnaryCall,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { publicMessageOf, statusOf } from './status.js';

export interface CallContext {
  /** Short method name, e.g. `AllowClient`. */
  method: string;
  metadata: Metadata;
  /** Absolute deadline in ms since the epoch; Infinity when the caller set none. */
  deadline: number;
  /** Aborted when the caller cancels or the server deadline wrapper gives up. */
  signal: AbortSignal;
  peer: string;
}

export type Unary<Req, Res> = (req: Req, ctx: CallContext) => Promise<Res>;

/** One cross-cutting job around a handler (auth, logging, metrics, deadline). */
export type Wrapper = <Req, Res>(next: Unary<Req, Res>) => Unary<Req, Res>;

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  return Number.isFinite(d) ? d : Infinity;
}

/**
 * Bridges an async handler to grpc-js. Wrappers apply outermost first. Errors
 * leave as typed statuses; the message of an INTERNAL is replaced, so a stack or
 * a host detail never reaches the caller (the logging wrapper records it).
 */
export function toGrpc<Req, Res>(
  method: string,
  handler: Unary<Req, Res>,
  wrappers: Wrapper[],
): handleUnaryCall<Req, Res> {
  const wrapped = wrappers.reduceRight<Unary<Req, Res>>((next, wrap) => wrap(next), handler);
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    // The signal, its 'cancelled' listener and the peer are made only for a handler that asks (an
    // AbortSignal costs ~15 µs a call, a listener on every call's emitter a few more).
    let abort: AbortController | undefined;
    // grpc-js also reports 'cancelled' when a finished call's stream closes; an
    // abort then would only build a DOMException (with its stack) per call.
    let answered = false;
    const ctx: CallContext = {
      method,
      metadata: call.metadata,
      deadline: deadlineOf(call as ServerUnaryCall<unknown, unknown>),
      get signal() {
        if (!abort) {
          const controller = new AbortController();
          abort = controller;
          if (call.cancelled) controller.abort();
          else call.on('cancelled', () => answered || controller.abort());
        }
        return abort.signal;
      },
      get peer() {
        return call.getPeer();
      },
    };
    let answer: Promise<Res>;
    try {
      answer = wrapped(call.request, ctx);
    } catch (err) {
      answer = Promise.reject(err); // a wrapper that throws before its first await still answers with a status
    }
    answer.then(
      (res) => {
        answered = true;
        callback(null, res);
      },
      (err: unknown) => {
        answered = true;
        const e: Partial<ServiceError> = {
          code: statusOf(err),
          details: publicMessageOf(err),
          metadata: new Metadata(),
        };
        callback(e);
      },
    );
  };
}
