import { SpanStatusCode, propagation, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { installTraceContext } from './trace-context.js';

export interface TracingOptions {
  /** OTLP/HTTP traces URL (Jaeger, Tempo and the Collector accept it); empty = off. */
  otlpEndpoint: string;
  /** Share of new traces kept, 0..1; a trace started elsewhere follows its parent's decision. */
  samplingRatio: number;
  serviceName: string;
}

export interface Tracing {
  enabled: boolean;
  /** Sends what is buffered (tests, before exit). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The name every Turnpike span is recorded under. */
export const TRACER_NAME = 'turnpike';

let enabled = false;

/** For per-packet paths (RADIUS) that skip even a no-op span while tracing is off. */
export function tracingOn(): boolean {
  return enabled;
}

/** Where spans come from; a no-op tracer while tracing is off, so callers never check. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Runs `work` under a child span of the active one; with no active span (tracing
 * off, or a periodic job outside any trace) it just runs, so hot paths pay nothing.
 */
export function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()) return work();
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Turns tracing on for this process when an endpoint is configured: a batch
 * exporter over OTLP/HTTP (JSON), a parent-based ratio sampler and the W3C
 * `traceparent` propagator. Off by default; the async context is installed
 * either way so request ids reach the logs. The SDK and the exporter are
 * imported only when tracing is on: with it off (the default) they would hold
 * about 10 MB of each daemon's memory for nothing (bench:startup).
 */
export async function startTracing(o: TracingOptions): Promise<Tracing> {
  installTraceContext();
  if (o.otlpEndpoint === '') {
    return { enabled: false, flush: async () => undefined, shutdown: async () => undefined };
  }
  const [{ W3CTraceContextPropagator }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
  ]);
  const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } = sdk;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.samplingRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: o.otlpEndpoint }),
        scheduledDelayMillis: 1000,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  enabled = true;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    async shutdown() {
      enabled = false;
      await provider.shutdown();
      // The next appliance in this process (tests) registers its own.
      trace.disable();
      propagation.disable();
    },
  };
}
