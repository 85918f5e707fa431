import { pino, type Logger, type LoggerOptions } from 'pino';
import { correlationFields } from './telemetry/trace-context.js';

export type { Logger };

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'token',
  '*.token',
  'refreshToken',
  '*.refreshToken',
  'accessToken',
  '*.accessToken',
  'secret',
  '*.secret',
  'sharedSecret',
  '*.sharedSecret',
  'currentPassword',
  '*.currentPassword',
  'oneTimePassword',
  '*.oneTimePassword',
  'mfaToken',
  '*.mfaToken',
  'recoveryCode',
  '*.recoveryCode',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.TURNPIKE_LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { app: 'turnpike' },
    // trace_id / span_id / request_id join a line to its trace and request (Loki, Elasticsearch).
    mixin: correlationFields,
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export const silentLogger: Logger = pino({ level: 'silent' });
