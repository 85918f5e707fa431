import { createRequire } from 'node:module';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

/**
 * Route schemas compiled when first used instead of while the portal starts.
 * Compiling every route's validators (ajv) and response serializers
 * (fast-json-stringify) took about a third of the appliance's CPU time from start
 * to a healthy `/healthz` (bench:startup); the guests' first requests do not wait
 * for routes nobody has called yet. Validation and serialization are fastify's
 * own: the same compilers fastify would use (resolved from fastify itself) with
 * the same options, each compiled at the route's first request, or in the
 * background once the server listens, so a broken schema is still logged at start.
 */

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;

interface RouteSchema {
  schema: unknown;
  method: string;
  url: string;
  httpPart?: string;
}

/** What the compilers return: an ajv validator (with `errors`, `schemaEnv`) or a serializer. */
type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown; schemaEnv?: unknown };

const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const defaultValidators = (fromFastify('@fastify/ajv-compiler') as () => BuildValidator)();
const defaultSerializers = (fromFastify('@fastify/fast-json-stringify-compiler') as () => BuildSerializer)();

/**
 * Header names are case-insensitive: fastify lower-cases a headers schema's
 * properties and required names before compiling it, but only for its default
 * compilers, so this does the same for the headers schemas it hands on.
 */
function lowerCaseHeaders(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const { properties, required, ...rest } = schema as { properties?: unknown; required?: unknown };
  return {
    ...rest,
    ...(properties !== null && typeof properties === 'object'
      ? {
          properties: Object.fromEntries(
            Object.entries(properties as Record<string, unknown>).map(([name, value]) => [name.toLowerCase(), value]),
          ),
        }
      : properties === undefined
        ? {}
        : { properties }),
    ...(Array.isArray(required)
      ? { required: required.map((name: unknown) => (typeof name === 'string' ? name.toLowerCase() : name)) }
      : required === undefined
        ? {}
        : { required }),
  };
}

export interface DeferredSchemas {
  compilersFactory: CompilersFactory;
  /** Compiles, a route at a time between other work, what no request has needed yet. */
  compileRest(logger: FastifyBaseLogger): void;
}

export function deferredSchemas(): DeferredSchemas {
  const pending = new Set<() => unknown>();

  /**
   * Stands in for `compile()`'s result and builds it on first use. fastify reads
   * an ajv validator's `schemaEnv` (to pass the parent data) and `errors`; both
   * are the compiled function's.
   */
  function deferred(compile: () => Compiled): Compiled {
    let compiled: Compiled | null = null;
    const build = (): Compiled => {
      pending.delete(build);
      compiled ??= compile();
      return compiled;
    };
    pending.add(build);
    const run: Compiled = (...args) => {
      const fn = compiled ?? build();
      const result = fn(...args);
      run.errors = fn.errors;
      return result;
    };
    Object.defineProperty(run, 'schemaEnv', { get: () => (compiled ?? build()).schemaEnv });
    return run;
  }

  const buildValidator = ((externalSchemas: unknown, options: unknown) => {
    const compile = (defaultValidators as (e: unknown, o: unknown) => (route: RouteSchema) => Compiled)(
      externalSchemas,
      options,
    );
    return (route: RouteSchema) =>
      route.httpPart === 'headers'
        ? compile({ ...route, schema: lowerCaseHeaders(route.schema) })
        : deferred(() => compile(route));
  }) as unknown as BuildValidator;

  const buildSerializer = ((externalSchemas: unknown, options: unknown) => {
    const compile = (defaultSerializers as (e: unknown, o: unknown) => (route: RouteSchema) => Compiled)(
      externalSchemas,
      options,
    );
    return (route: RouteSchema) => deferred(() => compile(route));
  }) as unknown as BuildSerializer;

  return {
    compilersFactory: { buildValidator, buildSerializer },
    compileRest(logger) {
      const next = (): void => {
        const [build] = pending;
        if (!build) return;
        try {
          build();
        } catch (err) {
          logger.error({ err }, 'a route schema does not compile');
        }
        setImmediate(next);
      };
      setImmediate(next);
    },
  };
}
