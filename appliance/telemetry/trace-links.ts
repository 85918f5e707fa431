import { ROOT_CONTEXT, context, trace, type Link } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * Joins work that a third party hands back later (a Stripe webhook for a
 * checkout) to the trace that started it: the W3C `traceparent` of the active
 * span travels in the provider's metadata and comes back as a span link.
 * Uses its own propagator, so it works whatever the global one is.
 */
const w3c = new W3CTraceContextPropagator();

type Carrier = Record<string, string>;
const setter = { set: (carrier: Carrier, key: string, value: string): void => void (carrier[key] = value) };
const getter = {
  get: (carrier: Carrier, key: string): string | undefined => carrier[key],
  keys: (carrier: Carrier): string[] => Object.keys(carrier),
};

/** `{ traceparent }` of the active sampled span, or nothing while tracing is off. */
export function traceparentMetadata(): { traceparent?: string } {
  const carrier: Carrier = {};
  if (trace.getSpanContext(context.active())) w3c.inject(context.active(), carrier, setter);
  return carrier.traceparent ? { traceparent: carrier.traceparent } : {};
}

/** The link back to the span a `traceparent` names; none when it is missing or malformed. */
export function linksFrom(traceparent: unknown): Link[] {
  if (typeof traceparent !== 'string') return [];
  const spanContext = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, { traceparent }, getter));
  return spanContext && trace.isSpanContextValid(spanContext) ? [{ context: spanContext }] : [];
}
