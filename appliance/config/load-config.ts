import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { TurnpikeError } from '../../shared/errors.js';
import { assertKnownEnvironment } from './environment-names.js';
import { configSchema, type Config } from './schema.js';

export const SYSTEM_CONFIG_FILE = '/etc/turnpike/turnpike.json';
export const EMBEDDED_CONFIG_FILE = './var/turnpike.json';

/** What the embedded default (`npm start`) changes from the production defaults. */
export const EMBEDDED_DEFAULTS = {
  dataDir: './var',
  portal: { host: '127.0.0.1' },
  radius: { listen: ['127.0.0.1'] },
  provisioner: { embedded: true },
  payments: { provider: 'stripe-fake' },
} as const;

export interface LoadConfigOptions {
  /** An explicit `--config` path; must exist. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  embedded?: boolean;
  /** Programmatic overrides applied after the file (tests, benchmarks). */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  /** The file that was read, or null when only defaults applied. */
  source: string | null;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true });
const validate = ajv.compile<Config>(configSchema);

function describe(error: ErrorObject): string {
  const path = error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    const parentSchema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
    const known = Object.keys(parentSchema?.properties ?? {}).join(', ');
    return `${path ? `${path}.` : ''}${key}: unknown key (expected one of: ${known})`;
  }
  return `${path || '(top level)'}: ${error.message ?? 'is not valid'}`;
}

/** Validates a complete or partial config document, filling in defaults. */
export function validateConfig(doc: unknown, origin: string): Config {
  const copy = structuredClone(doc);
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map(describe);
    throw new TurnpikeError(
      'TP_ERR_CONFIG',
      `${origin} is not a valid Turnpike configuration:\n  ${problems.join('\n  ')}`,
      {
        problems,
      },
    );
  }
  return copy;
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TurnpikeError('TP_ERR_CONFIG', `${path} cannot be read as JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TurnpikeError('TP_ERR_CONFIG', `${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; anything else in `over` replaces what `base` has. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
}

export function envName(path: string[]): string {
  return `TURNPIKE_${path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

function coerce(raw: string, type: string | undefined, name: string): unknown {
  if (type === 'integer' || type === 'number') {
    const value = Number(raw);
    if (raw.trim() === '' || Number.isNaN(value)) {
      throw new TurnpikeError('TP_ERR_CONFIG', `${name}=${raw}: expected a number`);
    }
    return value;
  }
  if (type === 'boolean') {
    if (!['true', 'false', '1', '0'].includes(raw)) {
      throw new TurnpikeError('TP_ERR_CONFIG', `${name}=${raw}: expected true or false`);
    }
    return raw === 'true' || raw === '1';
  }
  if (type === 'array') {
    return raw.trim().startsWith('[') ? (JSON.parse(raw) as unknown) : raw.split(',').map((item) => item.trim());
  }
  return raw;
}

/**
 * `TURNPIKE_PORTAL_PORT=8081` overrides `portal.port`, and so on for every leaf. A `TURNPIKE_*`
 * variable that names no key stops the start, as an unknown key in the file does.
 */
function environmentOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const names = new Set<string>();
  const walk = (node: SchemaNode, path: string[], target: Record<string, unknown>): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const childPath = [...path, key];
      if (child.type === 'object' && child.properties) {
        const nested: Record<string, unknown> = {};
        walk(child, childPath, nested);
        if (Object.keys(nested).length > 0) target[key] = nested;
        continue;
      }
      const name = envName(childPath);
      names.add(name);
      const raw = env[name];
      if (raw !== undefined) target[key] = coerce(raw, child.type, name);
    }
  };
  walk(configSchema as unknown as SchemaNode, [], out);
  assertKnownEnvironment(env, names);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Built-in defaults → config file → environment → overrides; validated, then frozen. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.TURNPIKE_CONFIG;
  const fallback = options.embedded ? EMBEDDED_CONFIG_FILE : SYSTEM_CONFIG_FILE;
  const path = explicit ? resolve(explicit) : existsSync(fallback) ? resolve(fallback) : null;
  if (explicit && !existsSync(path!)) {
    throw new TurnpikeError('TP_ERR_CONFIG', `config file ${path} does not exist`);
  }
  let doc: Record<string, unknown> = options.embedded
    ? (structuredClone(EMBEDDED_DEFAULTS) as Record<string, unknown>)
    : {};
  if (path) {
    const fromFile = readConfigFile(path);
    validateConfig(fromFile, path);
    doc = deepMerge(doc, fromFile);
  }
  doc = deepMerge(doc, environmentOverrides(env));
  if (options.overrides) doc = deepMerge(doc, options.overrides);
  const config = validateConfig(doc, path ?? 'the configuration');
  return { config: deepFreeze(config), source: path };
}
